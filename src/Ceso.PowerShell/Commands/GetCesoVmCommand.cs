using System.Management.Automation;
using Ceso.Engine.Connection;
using Ceso.Engine.Model;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Gets the virtual machines of an ESXi host, by name (wildcards) or by id.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CesoVm", DefaultParameterSetName = ByName)]
[OutputType(typeof(CesoVm))]
public sealed class GetCesoVmCommand : CesoCmdlet
{
    private const string ByName = "ByName";
    private const string ById = "ById";

    // One listing per session per invocation, so that a pipeline of names costs one round trip.
    private readonly Dictionary<Guid, IReadOnlyList<CesoVm>> _listed = [];

    /// <summary>VM names; wildcards allowed. Default: all VMs.</summary>
    [Parameter(ParameterSetName = ByName, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>VM ids (the host's vmid / managed object id), matched exactly.</summary>
    [Parameter(ParameterSetName = ById, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Id { get; set; } = [];

    /// <summary>The session to ask: a server name, a session id or a Connect-CesoServer result. Default: the default session.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity? Server { get; set; }

    /// <summary>Writes the matching VMs; an exact name or id that matches nothing is a VmNotFound error.</summary>
    protected override void ProcessRecord()
    {
        if (ResolveServer(Server) is not { } session || !TryList(session, out var vms))
        {
            return;
        }

        var (matched, missing) = ParameterSetName == ById
            ? (vms.Where(v => Id.Contains(v.Id, StringComparer.Ordinal)).ToList(), Id.Where(id => !vms.Any(v => v.Id == id)).ToList())
            : NameFilter.Apply(vms, v => v.Name, Name);
        WriteObject(matched, enumerateCollection: true);
        foreach (var name in missing)
        {
            var what = ParameterSetName == ById ? "VM with id" : "VM named";
            WriteError(ErrorMapper.ToErrorRecord(NameFilter.NotFound("VmNotFound", what, name, session.Server, "Get-CesoVm"), name));
        }
    }

    private bool TryList(CesoSession session, out IReadOnlyList<CesoVm> vms)
    {
        if (_listed.TryGetValue(session.Id, out vms!))
        {
            return true;
        }

        if (!TryRunEngine(session.Inventory.GetVmsAsync, (object?)Server ?? session.Server, out vms!))
        {
            return false;
        }

        _listed[session.Id] = vms;
        RecordNames(session.Server, NameCache.Vm, vms.Where(v => !v.IsTemplate).Select(v => v.Name));
        RecordNames(session.Server, NameCache.Template, vms.Where(v => v.IsTemplate).Select(v => v.Name));
        return true;
    }
}
