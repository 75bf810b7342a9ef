using System.Management.Automation;
using Ceso.Engine.Operations;
using Ceso.Engine.Security;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Removes an AI agent's account from an ESXi host: its permissions, the local user and the stored credential.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "CesoAgentAccount", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(AgentAccount))]
public sealed class RemoveCesoAgentAccountCommand : CesoCmdlet
{
    /// <summary>The agent whose account goes.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidatePattern("^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")]
    [ArgumentCompleter(typeof(AgentNameCompleter))]
    public string Agent { get; set; } = "";

    /// <summary>The host the account is on (a connected session, as an administrator); default: the default session.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity? Server { get; set; }

    /// <summary>Writes the removed account.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Refuses agent sessions: only a person removes an agent's account.</summary>
    protected override void BeginProcessing() => RefuseAgentSession("Remove-CesoAgentAccount");

    /// <summary>Plans the removal, asks per step, runs it.</summary>
    protected override void ProcessRecord()
    {
        var session = ResolveServer(Server);
        if (session is null)
        {
            return;
        }

        if (RunPlan(session, Agent, ct => new HostAgentAccounts(session, Home).PlanRemoveAsync(Agent, ct), out var account) == PlanOutcome.Executed
            && PassThru && account is not null)
        {
            WriteObject(account);
        }
    }
}
