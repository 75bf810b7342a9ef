using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Changes a powered-off VM: CPU, memory, disks, network adapters, firmware, ISO, notes, and its cloud-init network (re-IP).</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "CesoVm", SupportsShouldProcess = true, DefaultParameterSetName = Default)]
[OutputType(typeof(CesoVm))]
public sealed class SetCesoVmCommand : VmChangeCmdlet
{
    /// <summary>vCPUs.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateRange(1, 768)]
    public int? NumCpu { get; set; }

    /// <summary>Memory in GiB (fractions allowed).</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateRange(0.004, 24576.0)]
    public double? MemoryGB { get; set; }

    /// <summary>Adds a new thin disk of this size in GiB.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateRange(1, 63488)]
    public int? AddDiskGB { get; set; }

    /// <summary>Grows a disk: two numbers, the disk's index (0-based, as in Disks) and its new size in GiB. Cannot be undone.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateCount(2, 2)]
    public int[]? ExtendDisk { get; set; }

    /// <summary>Adds a vmxnet3 network adapter on this portgroup.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(NetworkCompleter))]
    public string? AddNetwork { get; set; }

    /// <summary>Removes the network adapter with this index (0-based, as in Nics).</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateRange(0, 9)]
    public int? RemoveNic { get; set; }

    /// <summary>Changes the adapter type of the adapter -NicIndex.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateSet("vmxnet3", "e1000e", "e1000")]
    public string? AdapterType { get; set; }

    /// <summary>The adapter -AdapterType and -Network change (0-based).</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateRange(0, 9)]
    public int NicIndex { get; set; }

    /// <summary>Connects the adapter -NicIndex to this portgroup.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(NetworkCompleter))]
    public string? Network { get; set; }

    /// <summary>Firmware: Bios or Efi.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateSet("Bios", "Efi")]
    public string? Firmware { get; set; }

    /// <summary>UEFI Secure Boot on ($true, needs Efi) or off ($false).</summary>
    [Parameter(ParameterSetName = Default)]
    public bool? SecureBoot { get; set; }

    /// <summary>Enables or disables CPU and memory hot-add (while the VM is off); with it on, -NumCpu/-MemoryGB may rise while the VM runs.</summary>
    [Parameter(ParameterSetName = Default)]
    public bool? HotAdd { get; set; }

    /// <summary>Connects an ISO image, as a datastore path: '[datastore1] iso/ubuntu.iso'.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string? IsoPath { get; set; }

    /// <summary>Disconnects the ISO image.</summary>
    [Parameter(ParameterSetName = Default)]
    public SwitchParameter EjectIso { get; set; }

    /// <summary>New static addresses in CIDR form, applied by cloud-init at the next boot (re-IP).</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string[]? IPAddress { get; set; }

    /// <summary>Re-IP with an address leased from this IP pool (New-CesoIPPool); its gateway, DNS servers and search domains come with it. The VM's earlier leases on this server are released once the change ran.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(IPPoolCompleter))]
    public string? IPPool { get; set; }

    /// <summary>Gateways for the re-IP, at most one per address family.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string[]? Gateway { get; set; }

    /// <summary>DNS servers for the re-IP.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string[]? DnsServer { get; set; }

    /// <summary>DNS search domains for the re-IP.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string[]? SearchDomain { get; set; }

    /// <summary>New notes (replace the old ones).</summary>
    [Parameter(ParameterSetName = Default)]
    [AllowEmptyString]
    public string? Notes { get; set; }

    /// <summary>Writes each VM as it is after the change.</summary>
    [Parameter(ParameterSetName = Default)]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc />
    protected override bool WriteResult => PassThru;

    /// <summary>Refuses contradicting parameters once, before any VM is looked at.</summary>
    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if (IsoPath is not null && EjectIso)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(new CesoException("IsoAndEject", CesoErrorKind.InvalidArgument,
                "-IsoPath connects an ISO and -EjectIso disconnects it; give one of them.") { Target = IsoPath }, IsoPath));
        }
    }

    // The pool address of the VM being planned now (ProcessRecord sets it per VM).
    private CesoIPPoolAddress? _poolAddress;

    /// <summary>With -IPPool: per VM, lease an address, plan with it, and settle the lease; else as every VM change.</summary>
    protected override void ProcessRecord()
    {
        if (IPPool is null)
        {
            base.ProcessRecord();
            return;
        }

        if (!CheckPoolOrAddress(IPPool, IPAddress, IPPool))
        {
            return;
        }

        foreach (var vm in Vm)
        {
            if (ResolveServer(Server, vm) is not { } session || OpenVmOperations(session, vm) is not { } ops)
            {
                continue;
            }

            _poolAddress = TakePoolAddress(session, IPPool, vm.Name, vm, out var leasing);
            if (_poolAddress is null)
            {
                continue;
            }

            var outcome = PlanOutcome.Failed;
            CesoVm? planned = null;
            try
            {
                outcome = RunPlan(session, vm, ct => PlanAsync(ops, vm.Id ?? vm.Name, ct), out planned);
                if (outcome == PlanOutcome.Executed && planned is not null && _poolAddress.Leased &&
                    TryRunEngine(ct => leasing.ReleaseVmAsync(planned.Name, planned.Id, _poolAddress.IPAddress, ct), vm, out var old))
                {
                    foreach (var lease in old)
                    {
                        WriteVerbose($"Released {lease.IPAddress} (pool '{lease.Pool}'): '{planned.Name}' now has {_poolAddress.IPAddress}.");
                    }
                }

                if (PassThru && outcome is PlanOutcome.Executed or PlanOutcome.NothingToDo)
                {
                    WriteRefreshed(ops, planned?.Id ?? vm.Name, vm);
                }
            }
            finally
            {
                SettlePoolAddress(leasing, _poolAddress, outcome, planned?.Id, vm);
                _poolAddress = null;
            }
        }
    }

    /// <inheritdoc />
    protected override async Task<(Plan Plan, CesoVm Vm)> PlanAsync(VmOperations operations, string vm, CancellationToken cancellationToken)
    {
        // Built here so that bad network input (GuestInput throws) becomes this VM's error, as a plan failure would.
        var request = new ReconfigureRequest
        {
            Vm = vm,
            NumCpu = NumCpu,
            MemoryMB = MemoryGB is { } gb ? (long)Math.Round(gb * 1024) : null,
            AddDiskGB = AddDiskGB,
            ExtendDisk = ExtendDisk is [var index, var size] ? (index, size) : null,
            AddNicNetwork = AddNetwork,
            RemoveNic = RemoveNic,
            AdapterType = AdapterType is null ? null : (NicIndex, AdapterType),
            NicNetwork = Network is null ? null : (NicIndex, Network),
            Firmware = Firmware?.ToLowerInvariant(),
            SecureBoot = SecureBoot,
            HotAdd = HotAdd,
            IsoPath = IsoPath,
            EjectIso = EjectIso,
            Guest = GuestInput.WithPool(_poolAddress, IPAddress, Gateway, DnsServer, SearchDomain) is var (ip, gateway, dns, search) && GuestInput.Any(ip, gateway, dns, search)
                ? GuestInput.Request(vm, ip, gateway, dns, search)
                : null,
            Annotation = Notes,
        };
        return await operations.PlanReconfigureAsync(request, cancellationToken).ConfigureAwait(false);
    }
}
