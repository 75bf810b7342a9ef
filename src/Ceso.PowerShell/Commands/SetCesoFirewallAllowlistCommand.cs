using System.Management.Automation;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Sets who may reach the host's SSH server and API (firewall allowlists), refusing any change that would lock out the address Ceso is connected from.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "CesoFirewallAllowlist", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = Only)]
[OutputType(typeof(CesoFirewallRuleset))]
public sealed class SetCesoFirewallAllowlistCommand : CesoCmdlet
{
    private const string Only = "Only";
    private const string All = "All";

    /// <summary>The addresses and CIDR networks that may connect, replacing the current list (10.0.0.5, 10.0.0.0/24, fd00::/64).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = Only)]
    [ValidateNotNullOrEmpty]
    [Alias("AllowedIP")]
    public string[] AllowedIPAddress { get; set; } = [];

    /// <summary>Lets any address connect again (the list is kept, not applied).</summary>
    [Parameter(Mandatory = true, ParameterSetName = All)]
    public SwitchParameter AllowAll { get; set; }

    /// <summary>The rulesets to change. Default: sshServer and vSphereClient (SSH and the API).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [Alias("Name")]
    public string[] Ruleset { get; set; } = [.. HostFirewall.ControlRulesets];

    /// <summary>The session to change: a server name, a session id or a Connect-CesoServer result. Default: the default session.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity? Server { get; set; }

    /// <summary>Writes the rulesets as the host lists them afterwards.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Plans (reads only, lockout check), asks per step with the exact command, runs.</summary>
    protected override void ProcessRecord()
    {
        if (ResolveServer(Server) is not { } session)
        {
            return;
        }

        var request = new FirewallAllowlistRequest(Ruleset, AllowAll, AllowAll ? [] : AllowedIPAddress);
        var outcome = RunPlan(session, (object?)Server ?? session.Server, ct => HostOperations.PlanFirewallAsync(session, Home, request, ct), out var planned);
        if (PassThru && outcome is PlanOutcome.Executed or PlanOutcome.NothingToDo && planned is not null
            && TryRunEngine(ct => HostOperations.GetFirewallAsync(session, ct), session.Server, out var after))
        {
            WriteObject(after.Where(r => planned.Any(p => p.Name == r.Name)), enumerateCollection: true);
        }
    }
}
