using System.Management.Automation;
using Ceso.Engine.Security;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Lists the access people gave AI agents: the active grants, or with -All also expired, used and revoked ones.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CesoAgentAccess")]
[OutputType(typeof(AgentAccess))]
public sealed class GetCesoAgentAccessCommand : CesoCmdlet
{
    /// <summary>Only grants of these agents; wildcards allowed.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(AgentNameCompleter))]
    public string[]? Agent { get; set; }

    /// <summary>Also grants that ended (expired, used or revoked).</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    /// <summary>Writes the matching grants, oldest first.</summary>
    protected override void ProcessRecord()
    {
        var now = DateTimeOffset.UtcNow;
        var patterns = Agent?.Select(a => new WildcardPattern(a, WildcardOptions.IgnoreCase)).ToList();
        foreach (var grant in new AgentGrantStore(Home).List())
        {
            var access = AgentAccess.Of(grant, now);
            if ((All || access.Status == nameof(AgentGrantStatus.Active)) && (patterns is null || patterns.Any(p => p.IsMatch(grant.Agent))))
            {
                WriteObject(access);
            }
        }
    }
}
