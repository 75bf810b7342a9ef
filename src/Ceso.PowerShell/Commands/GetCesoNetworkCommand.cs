using System.Management.Automation;
using Ceso.Engine.Connection;
using Ceso.Engine.Model;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Gets the standard-switch portgroups of an ESXi host: virtual switch and VLAN.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CesoNetwork", DefaultParameterSetName = Default)]
[OutputType(typeof(CesoNetwork))]
public sealed class GetCesoNetworkCommand : CesoCmdlet
{
    private const string Default = "Default";

    /// <summary>Portgroup names; wildcards allowed. Default: all.</summary>
    [Parameter(ParameterSetName = Default, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(NetworkNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>The session to ask: a server name, a session id or a Connect-CesoServer result. Default: the default session.</summary>
    [Parameter(ParameterSetName = Default, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity? Server { get; set; }

    /// <summary>Writes the matching portgroups; an exact name that matches nothing is a NetworkNotFound error.</summary>
    protected override void ProcessRecord()
    {
        if (ResolveServer(Server) is not { } session
            || !TryRunEngine(session.Inventory.GetNetworksAsync, (object?)Server ?? session.Server, out var all))
        {
            return;
        }

        RecordNames(session.Server, NameCache.Network, all.Select(x => x.Name));
        var (matched, missing) = NameFilter.Apply(all, x => x.Name, Name);
        WriteObject(matched, enumerateCollection: true);
        foreach (var name in missing)
        {
            WriteError(ErrorMapper.ToErrorRecord(NameFilter.NotFound("NetworkNotFound", "portgroup named", name, session.Server, "Get-CesoNetwork"), name));
        }
    }
}
