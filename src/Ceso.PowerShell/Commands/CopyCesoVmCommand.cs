using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Copies a VM (full clone) under a new name with a new identity; -Hot copies a running VM through a temporary snapshot.</para>
/// </summary>
[Cmdlet(VerbsCommon.Copy, "CesoVm", SupportsShouldProcess = true, DefaultParameterSetName = Default)]
[OutputType(typeof(CesoVm))]
public sealed class CopyCesoVmCommand : CesoCmdlet
{
    private const string Default = "Default";

    /// <summary>The VM to copy: a name, an id, or a Get-CesoVm result.</summary>
    [Parameter(ParameterSetName = Default, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(VmCompleter))]
    public VmIdentity Vm { get; set; } = null!;

    /// <summary>Name of the copy; also its folder and file name on the datastore.</summary>
    [Parameter(ParameterSetName = Default, Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>Static addresses of the copy in CIDR form. Default: DHCP.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string[]? IPAddress { get; set; }

    /// <summary>Lease the copy's address from this IP pool (New-CesoIPPool); its gateway, DNS servers and search domains come with it.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(IPPoolCompleter))]
    public string? IPPool { get; set; }

    /// <summary>Gateways, at most one per address family. Default: the first host of each subnet.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string[]? Gateway { get; set; }

    /// <summary>DNS servers.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string[]? DnsServer { get; set; }

    /// <summary>DNS search domains.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string[]? SearchDomain { get; set; }

    /// <summary>SSH public keys for the default user: key text, or paths to .pub files.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string[]? SshKey { get; set; }

    /// <summary>Hostname of the copy. Default: its VM name.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string? Hostname { get; set; }

    /// <summary>Copy a running VM: snapshot, copy the base disks, remove the snapshot (also on failure).</summary>
    [Parameter(ParameterSetName = Default)]
    public SwitchParameter Hot { get; set; }

    /// <summary>Datastore for the copy. Default: the source's.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DatastoreCompleter))]
    public string? Datastore { get; set; }

    /// <summary>Power the copy on once it is registered.</summary>
    [Parameter(ParameterSetName = Default)]
    public SwitchParameter PowerOn { get; set; }

    /// <summary>The session to use. Default: the server a piped VM came from, else the default session.</summary>
    [Parameter(ParameterSetName = Default, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity? Server { get; set; }

    /// <summary>Plans the copy, asks per step, copies and writes the copy as the host lists it.</summary>
    protected override void ProcessRecord()
    {
        if (!CheckPoolOrAddress(IPPool, IPAddress, Vm))
        {
            return;
        }

        CloneVmRequest? Build(CesoIPPoolAddress? address)
        {
            try
            {
                var keys = GuestInput.SshKeys(SshKey, ProviderPath);
                var (ip, gateway, dns, search) = GuestInput.WithPool(address, IPAddress, Gateway, DnsServer, SearchDomain);
                return new CloneVmRequest
                {
                    Source = Vm.Id ?? Vm.Name,
                    Name = Name,
                    Guest = GuestInput.Any(ip, gateway, dns, search, SshKey, Hostname)
                        ? GuestInput.Request(Name, ip, gateway, dns, search, keys, Hostname)
                        : null,
                    Hot = Hot,
                    Datastore = Datastore,
                    PowerOn = PowerOn,
                };
            }
            catch (CesoException e)
            {
                WriteEngineError(e, Vm);
                return null;
            }
        }

        // Without a pool, bad input is refused before the session is looked at; with one, each copy leases its own address.
        var request = IPPool is null ? Build(null) : null;
        if ((IPPool is null && request is null) || ResolveServer(Server, Vm) is not { } session || OpenVmOperations(session, Vm) is not { } ops)
        {
            return;
        }

        AddressLeasing? leasing = null;
        CesoIPPoolAddress? address = null;
        if (IPPool is not null && ((address = TakePoolAddress(session, IPPool, Name, Vm, out leasing)) is null || (request = Build(address)) is null))
        {
            if (leasing is not null) SettlePoolAddress(leasing, address, PlanOutcome.Failed, null, Vm);
            return;
        }

        var outcome = PlanOutcome.Failed;
        CesoVm? copy = null;
        try
        {
            outcome = RunPlan(session, Vm, ct => ops.PlanCloneAsync(request!, ct), out _);
            if (outcome == PlanOutcome.Executed)
            {
                copy = WriteRefreshed(ops, Name, Name);
            }
        }
        finally
        {
            if (leasing is not null)
            {
                SettlePoolAddress(leasing, address, outcome, copy?.Id, Vm);
            }
        }
    }
}
