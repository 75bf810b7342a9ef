using System.Management.Automation;
using Ceso.Engine.Connection;
using Ceso.Engine.Model;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Gets the datastores of an ESXi host: type, capacity, free space and URL.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CesoDatastore", DefaultParameterSetName = Default)]
[OutputType(typeof(CesoDatastore))]
public sealed class GetCesoDatastoreCommand : CesoCmdlet
{
    private const string Default = "Default";

    /// <summary>Datastore names; wildcards allowed. Default: all.</summary>
    [Parameter(ParameterSetName = Default, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DatastoreNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>The session to ask: a server name, a session id or a Connect-CesoServer result. Default: the default session.</summary>
    [Parameter(ParameterSetName = Default, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity? Server { get; set; }

    /// <summary>Writes the matching datastores; an exact name that matches nothing is a DatastoreNotFound error.</summary>
    protected override void ProcessRecord()
    {
        if (ResolveServer(Server) is not { } session
            || !TryRunEngine(session.Inventory.GetDatastoresAsync, (object?)Server ?? session.Server, out var all))
        {
            return;
        }

        RecordNames(session.Server, NameCache.Datastore, all.Select(x => x.Name));
        var (matched, missing) = NameFilter.Apply(all, x => x.Name, Name);
        WriteObject(matched, enumerateCollection: true);
        foreach (var name in missing)
        {
            WriteError(ErrorMapper.ToErrorRecord(NameFilter.NotFound("DatastoreNotFound", "datastore named", name, session.Server, "Get-CesoDatastore"), name));
        }
    }
}
