using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Creates a VM from a template: thin copies of its disks, a new identity, and cloud-init guestinfo (network, keys, user-data).</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "CesoVm", SupportsShouldProcess = true, DefaultParameterSetName = Default)]
[OutputType(typeof(CesoVm))]
public sealed class NewCesoVmCommand : CesoCmdlet
{
    private const string Default = "Default";

    /// <summary>Name of the new VM; also its folder and file name on the datastore.</summary>
    [Parameter(ParameterSetName = Default, Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The template: a powered-off VM (or template) by name or id.</summary>
    [Parameter(ParameterSetName = Default, Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(TemplateCompleter))]
    public string Template { get; set; } = "";

    /// <summary>Static addresses in CIDR form (10.0.0.5/24, fd00::5/64). Default: DHCP.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string[]? IPAddress { get; set; }

    /// <summary>Lease the address from this IP pool (New-CesoIPPool); its gateway, DNS servers and search domains come with it.</summary>
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

    /// <summary>SSH public keys for the default user: key text, or paths to .pub files (relative to the current location).</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string[]? SshKey { get; set; }

    /// <summary>Hostname of the guest. Default: the VM name.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string? Hostname { get; set; }

    /// <summary>vCPUs. Default: the template's.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateRange(1, 768)]
    public int? NumCpu { get; set; }

    /// <summary>Memory in GiB (fractions allowed, 0.5 = 512 MiB). Default: the template's.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateRange(0.004, 24576.0)]
    public double? MemoryGB { get; set; }

    /// <summary>Size of the first disk in GiB; grown when larger than the template's, never shrunk.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateRange(1, 63488)]
    public int? DiskGB { get; set; }

    /// <summary>Datastore for the VM. Default: the template's.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DatastoreCompleter))]
    public string? Datastore { get; set; }

    /// <summary>Portgroup for the first network adapter. Default: the template's.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(NetworkCompleter))]
    public string? Network { get; set; }

    /// <summary>Extra cloud-init user-data (cloud-config or a script): the text itself or the path of a file.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string? UserData { get; set; }

    /// <summary>Power the VM on once it is registered.</summary>
    [Parameter(ParameterSetName = Default)]
    public SwitchParameter PowerOn { get; set; }

    /// <summary>After powering on, wait until VMware Tools report an IP address (needs -PowerOn).</summary>
    [Parameter(ParameterSetName = Default)]
    public SwitchParameter WaitForIp { get; set; }

    /// <summary>How long -WaitForIp waits, in seconds.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateRange(1, 86400)]
    public int TimeoutSec { get; set; } = 600;

    /// <summary>The session to use: a server name, a session id or a Connect-CesoServer result. Default: the default session.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity? Server { get; set; }

    /// <summary>Plans the VM, asks per step, creates it and writes it as the host lists it.</summary>
    protected override void ProcessRecord()
    {
        if (WaitForIp && !PowerOn)
        {
            WriteEngineError(new CesoException("WaitForIpNeedsPowerOn", CesoErrorKind.InvalidArgument,
                "-WaitForIp waits for the guest to report an address, which needs it running: add -PowerOn.") { Target = Name }, Name);
            return;
        }

        if (!CheckPoolOrAddress(IPPool, IPAddress, Name))
        {
            return;
        }

        CreateVmRequest? Build(CesoIPPoolAddress? address)
        {
            try
            {
                var (ip, gateway, dns, search) = GuestInput.WithPool(address, IPAddress, Gateway, DnsServer, SearchDomain);
                return new CreateVmRequest
                {
                    Name = Name,
                    Template = Template,
                    Guest = GuestInput.Request(Name, ip, gateway, dns, search,
                        GuestInput.SshKeys(SshKey, ProviderPath), Hostname, GuestInput.UserData(UserData, ProviderPath)),
                    NumCpu = NumCpu,
                    MemoryMB = MemoryGB is { } gb ? (long)Math.Round(gb * 1024) : null,
                    DiskGB = DiskGB,
                    Datastore = Datastore,
                    Network = Network,
                    PowerOn = PowerOn,
                };
            }
            catch (CesoException e)
            {
                WriteEngineError(e, Name);
                return null;
            }
        }

        // Without a pool, bad input is refused before the session is looked at (as always); with one, the address comes first.
        var request = IPPool is null ? Build(null) : null;
        if ((IPPool is null && request is null) || ResolveServer(Server) is not { } session || OpenVmOperations(session, Name) is not { } ops)
        {
            return;
        }

        AddressLeasing? leasing = null;
        CesoIPPoolAddress? address = null;
        if (IPPool is not null && ((address = TakePoolAddress(session, IPPool, Name, Name, out leasing)) is null || (request = Build(address)) is null))
        {
            if (leasing is not null) SettlePoolAddress(leasing, address, PlanOutcome.Failed, null, Name);
            return;
        }

        var outcome = PlanOutcome.Failed;
        CesoVm? created = null;
        try
        {
            outcome = RunPlan(session, Name, ct => ops.PlanCreateAsync(request!, ct), out _);
            if (outcome != PlanOutcome.Executed)
            {
                return;
            }

            if (!WaitForIp)
            {
                created = WriteRefreshed(ops, Name, Name);
            }
            else if (WaitForIpAddress(ops, Name, TimeSpan.FromSeconds(TimeoutSec), Name) is { } vm)
            {
                created = vm;
                WriteObject(vm);
            }
        }
        finally
        {
            if (leasing is not null)
            {
                SettlePoolAddress(leasing, address, outcome, created?.Id, Name);
            }
        }
    }
}
