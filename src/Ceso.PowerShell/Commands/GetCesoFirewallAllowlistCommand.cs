using System.Management.Automation;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Gets who may reach the host's SSH server and API: the firewall rulesets' allowlists.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CesoFirewallAllowlist")]
[OutputType(typeof(CesoFirewallRuleset))]
public sealed class GetCesoFirewallAllowlistCommand : CesoCmdlet
{
    /// <summary>Ruleset ids; wildcards allowed (* for all). Default: sshServer and vSphereClient, the ones Ceso connects through.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [Alias("Name")]
    public string[]? Ruleset { get; set; }

    /// <summary>The session to ask: a server name, a session id or a Connect-CesoServer result. Default: the default session.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity? Server { get; set; }

    /// <summary>Writes the matching rulesets; an exact id that matches nothing is a FirewallRulesetNotFound error.</summary>
    protected override void ProcessRecord()
    {
        if (ResolveServer(Server) is not { } session
            || !TryRunEngine(ct => HostOperations.GetFirewallAsync(session, ct), (object?)Server ?? session.Server, out var all))
        {
            return;
        }

        var (matched, missing) = NameFilter.Apply(all, x => x.Name, Ruleset ?? [.. HostFirewall.ControlRulesets]);
        WriteObject(matched, enumerateCollection: true);
        foreach (var name in missing)
        {
            WriteError(ErrorMapper.ToErrorRecord(NameFilter.NotFound("FirewallRulesetNotFound", "firewall ruleset named", name, session.Server, "Get-CesoFirewallAllowlist -Ruleset *"), name));
        }
    }
}
