using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.Configuration;
using Ceso.Engine.Model;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Registers a VM as a named template in config.yaml, with a description and default CPU, memory, disk and network for New-CesoVm.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Register, "CesoTemplate", SupportsShouldProcess = true)]
[OutputType(typeof(CesoTemplate))]
public sealed class RegisterCesoTemplateCommand : CesoCmdlet
{
    /// <summary>The registry name (what New-CesoVm -Template and Test-CesoTemplate take).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The template's VM: a name, or a Get-CesoVm result.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(VmCompleter))]
    public VmIdentity Vm { get; set; } = null!;

    /// <summary>
    /// Only on this server (a name, a session id or a Connect-CesoServer result); the VM is checked on its session when
    /// connected. Default: any server, checked on the default session when there is one.
    /// </summary>
    [Parameter]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity? Server { get; set; }

    /// <summary>What the template is.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Description { get; set; }

    /// <summary>Default vCPUs for New-CesoVm.</summary>
    [Parameter]
    [ValidateRange(1, 768)]
    public int? NumCpu { get; set; }

    /// <summary>Default memory in MiB for New-CesoVm.</summary>
    [Parameter]
    [ValidateRange(4, 25165824)]
    public long? MemoryMB { get; set; }

    /// <summary>Default size of the first disk in GiB for New-CesoVm (grown when larger than the template's).</summary>
    [Parameter]
    [ValidateRange(1, 63488)]
    public int? DiskGB { get; set; }

    /// <summary>Default portgroup of the first network adapter for New-CesoVm.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(NetworkCompleter))]
    public string? Network { get; set; }

    /// <summary>Checks the VM (and network) when connected, then adds the entry to config.yaml.</summary>
    protected override void ProcessRecord()
    {
        var session = Server is null ? Sessions.Default : Sessions.Find(Server);
        var vmName = Vm.Name;
        if (session is not null)
        {
            if (!TryRunEngine(session.Inventory.GetVmsAsync, Vm, out var vms) || !TryRunEngine(session.Inventory.GetNetworksAsync, Network, out var networks))
            {
                return;
            }

            var vm = vms.FirstOrDefault(v => Vm.Id is { } id && v.Id == id) ?? vms.FirstOrDefault(v => v.Name == Vm.Name) ?? vms.FirstOrDefault(v => v.Id == Vm.Name);
            if (vm is null)
            {
                WriteEngineError(NameFilter.NotFound("VmNotFound", "VM named", Vm.Name, session.Server, "Get-CesoVm"), Vm);
                return;
            }

            vmName = vm.Name;
            if (Network is not null && !networks.Any(n => n.Name == Network))
            {
                WriteEngineError(new CesoException("NetworkNotFound", CesoErrorKind.NotFound,
                    $"{session.Server} has no portgroup '{Network}' (it has {string.Join(", ", networks.Select(n => "'" + n.Name + "'"))}). Run Get-CesoNetwork to list them.")
                { Target = Network, Host = session.Server }, Network);
                return;
            }
        }
        else
        {
            WriteWarning($"Not connected{(Server is null ? "" : " to '" + Server + "'")}: Ceso cannot check that VM '{Vm.Name}' exists; Test-CesoTemplate {Name} checks it later.");
        }

        var entry = new TemplateEntry
        {
            Vm = vmName,
            Server = Server is null ? null : session?.Server ?? Server.Name,
            Description = Description,
            NumCpu = NumCpu,
            MemoryMB = MemoryMB,
            DiskGB = DiskGB,
            Network = Network,
        };
        var path = CesoConfig.PathOf(Home);
        var what = $"Register template '{Name}' as VM '{vmName}'{(entry.Server is null ? "" : " on " + entry.Server)}";
        if (!ShouldProcess(path, what) || !AuthorizeLocalChange("RegisterTemplate", path, what, Name))
        {
            return;
        }

        try
        {
            TemplateRegistry.Register(Home, Name, entry);
        }
        catch (CesoException e)
        {
            WriteEngineError(e, Name);
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteEngineError(new CesoException("ConfigNotWritable", CesoErrorKind.InvalidState, $"Could not write {path}: {e.Message}", e) { Target = Name }, Name);
            return;
        }

        WriteObject(TemplateRegistry.ToModel(Name, entry));
    }
}
