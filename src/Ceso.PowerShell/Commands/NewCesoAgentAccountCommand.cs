using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.Operations;
using Ceso.Engine.Security;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Creates an AI agent's own account on an ESXi host: a local user with the read-only role, No Access on protected VMs, and its credential stored for the agent.</para>
/// </summary>
/// <remarks>
/// The boundary an agent cannot talk its way around (docs/security.md): hostd refuses the account's writes whatever
/// program the agent uses, until Grant-CesoAgentAccess -Server widens its permission for a while.
/// </remarks>
[Cmdlet(VerbsCommon.New, "CesoAgentAccount", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(AgentAccount))]
public sealed class NewCesoAgentAccountCommand : CesoCmdlet
{
    /// <summary>The agent's name, as its sessions set it in CESO_AGENT.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidatePattern("^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")]
    [ArgumentCompleter(typeof(AgentNameCompleter))]
    public string Agent { get; set; } = "";

    /// <summary>The host (a connected session, as an administrator); default: the default session.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity? Server { get; set; }

    /// <summary>Refuses agent sessions: only a person creates an agent's account.</summary>
    protected override void BeginProcessing() => RefuseAgentSession("New-CesoAgentAccount");

    /// <summary>Plans the account (the password is generated here and masked in everything shown or recorded), asks per step, runs it.</summary>
    protected override void ProcessRecord()
    {
        var session = ResolveServer(Server);
        if (session is null)
        {
            return;
        }

        // The password goes to the credential store in the plan's last step: a store that cannot take it (no passphrase,
        // no session bus) is refused here, before the user exists on the host.
        if (!TryRunEngine(ct => new AgentCredentialStore(Home).OpenAsync(ct), Agent, out _))
        {
            return;
        }

        var password = HostAgentAccounts.NewPassword();
        if (RunPlan(session, Agent, ct => new HostAgentAccounts(session, Home).PlanCreateAsync(Agent, password, ct), out var account, secrets: [password, CredentialPassphrase()]) == PlanOutcome.Executed
            && account is not null)
        {
            WriteObject(account);
        }
    }
}
