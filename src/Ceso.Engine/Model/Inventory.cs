namespace Ceso.Engine.Model;

/// <summary>A standalone ESXi host as discovered.</summary>
public sealed record CesoHost
{
    /// <summary>The server (connection) this came from.</summary>
    public required string Server { get; init; }
    /// <summary>The host's own name.</summary>
    public required string Name { get; init; }
    /// <summary>Product name, e.g. "VMware ESXi".</summary>
    public required string Product { get; init; }
    /// <summary>Version, e.g. "8.0.2".</summary>
    public required string Version { get; init; }
    /// <summary>Build number.</summary>
    public required string Build { get; init; }
    /// <summary>CPU model.</summary>
    public string? CpuModel { get; init; }
    /// <summary>CPU sockets.</summary>
    public int CpuSockets { get; init; }
    /// <summary>CPU cores.</summary>
    public int CpuCores { get; init; }
    /// <summary>CPU threads.</summary>
    public int CpuThreads { get; init; }
    /// <summary>CPU speed in MHz.</summary>
    public int CpuMhz { get; init; }
    /// <summary>Physical memory in bytes.</summary>
    public long MemoryBytes { get; init; }
    /// <summary>Memory in GiB (rounded to 0.1).</summary>
    public double MemoryGB => Math.Round(MemoryBytes / 1073741824.0, 1);
    /// <summary>The license's name (e.g. "Evaluation Mode", "VMware vSphere 8 Hypervisor"), when visible.</summary>
    public string? LicenseEdition { get; init; }
}

/// <summary>A datastore of the host.</summary>
public sealed record CesoDatastore
{
    /// <summary>The server (connection) this came from.</summary>
    public required string Server { get; init; }
    /// <summary>Datastore name.</summary>
    public required string Name { get; init; }
    /// <summary>File system type: VMFS, NFS, NFS41, vsan, …</summary>
    public required string Type { get; init; }
    /// <summary>Capacity in bytes.</summary>
    public long CapacityBytes { get; init; }
    /// <summary>Free space in bytes.</summary>
    public long FreeBytes { get; init; }
    /// <summary>Capacity in GiB.</summary>
    public double CapacityGB => Math.Round(CapacityBytes / 1073741824.0, 1);
    /// <summary>Free space in GiB.</summary>
    public double FreeGB => Math.Round(FreeBytes / 1073741824.0, 1);
    /// <summary>The datastore URL, <c>ds:///vmfs/volumes/&lt;uuid&gt;/</c>.</summary>
    public required string Url { get; init; }
}

/// <summary>A standard-switch portgroup of the host.</summary>
public sealed record CesoNetwork
{
    /// <summary>The server (connection) this came from.</summary>
    public required string Server { get; init; }
    /// <summary>Portgroup name.</summary>
    public required string Name { get; init; }
    /// <summary>The virtual switch it is on.</summary>
    public required string VirtualSwitch { get; init; }
    /// <summary>VLAN id (0 = none, 4095 = all).</summary>
    public int VlanId { get; init; }
}

/// <summary>
/// The power states a VM reports, as the strings <see cref="CesoVm.PowerState"/> holds. A string and not an enum, so
/// that ConvertTo-Json writes the name (it writes enums as numbers unless -EnumsAsStrings; see docs/decisions.md).
/// </summary>
public static class CesoPowerState
{
    /// <summary>The host did not say.</summary>
    public const string Unknown = "Unknown";
    /// <summary>Powered off.</summary>
    public const string PoweredOff = "PoweredOff";
    /// <summary>Powered on.</summary>
    public const string PoweredOn = "PoweredOn";
    /// <summary>Suspended.</summary>
    public const string Suspended = "Suspended";

    /// <summary>Every value, in this order.</summary>
    public static IReadOnlyList<string> All { get; } = [Unknown, PoweredOff, PoweredOn, Suspended];
}

/// <summary>A virtual disk of a VM.</summary>
public sealed record CesoVmDisk
{
    /// <summary>Position among the VM's disks (0-based, in device order).</summary>
    public int Index { get; init; }
    /// <summary>Datastore path, <c>[datastore1] web01/web01.vmdk</c>.</summary>
    public required string Path { get; init; }
    /// <summary>The datastore holding the disk.</summary>
    public required string Datastore { get; init; }
    /// <summary>Capacity in bytes.</summary>
    public long CapacityBytes { get; init; }
    /// <summary>Capacity in GiB.</summary>
    public double CapacityGB => Math.Round(CapacityBytes / 1073741824.0, 2);
    /// <summary>Thin provisioned, when the host says so.</summary>
    public bool? Thin { get; init; }
    /// <summary>Disk mode: persistent, independent_persistent, independent_nonpersistent.</summary>
    public string? Mode { get; init; }

    /// <summary>One line for Format-List and string contexts: <c>0: [datastore1] web01/web01.vmdk 16 GB thin</c>.</summary>
    public override string ToString() =>
        $"{Index}: {Path} {CapacityGB.ToString(System.Globalization.CultureInfo.InvariantCulture)} GB"
        + (Thin switch { true => " thin", false => " thick", null => "" })
        + (Mode is null or "persistent" ? "" : " " + Mode);
}

/// <summary>A network adapter of a VM.</summary>
public sealed record CesoVmNic
{
    /// <summary>Position among the VM's adapters (0-based, in device order).</summary>
    public int Index { get; init; }
    /// <summary>Adapter type: vmxnet3, e1000e, e1000, …</summary>
    public required string AdapterType { get; init; }
    /// <summary>MAC address.</summary>
    public string? MacAddress { get; init; }
    /// <summary>Portgroup the adapter is connected to.</summary>
    public string? Network { get; init; }

    /// <summary>One line for Format-List and string contexts: <c>0: vmxnet3 00:50:56:12:34:56 on VM Network</c>.</summary>
    public override string ToString() =>
        $"{Index}: {AdapterType} {MacAddress ?? "(no MAC yet)"}{(Network is null ? ", not connected" : " on " + Network)}";
}

/// <summary>A virtual machine on the host.</summary>
public sealed record CesoVm
{
    /// <summary>The server (connection) this came from.</summary>
    public required string Server { get; init; }
    /// <summary>The host's id for the VM (vmid; the managed object reference value).</summary>
    public required string Id { get; init; }
    /// <summary>Display name.</summary>
    public required string Name { get; init; }
    /// <summary>Power state: PoweredOn, PoweredOff, Suspended or Unknown (<see cref="CesoPowerState"/>).</summary>
    public string PowerState { get; init; } = CesoPowerState.Unknown;
    /// <summary>Virtual CPUs.</summary>
    public int NumCpu { get; init; }
    /// <summary>Memory in MiB.</summary>
    public long MemoryMB { get; init; }
    /// <summary>Memory in GiB.</summary>
    public double MemoryGB => Math.Round(MemoryMB / 1024.0, 2);
    /// <summary>Virtual disks.</summary>
    public IReadOnlyList<CesoVmDisk> Disks { get; init; } = [];
    /// <summary>Network adapters.</summary>
    public IReadOnlyList<CesoVmNic> Nics { get; init; } = [];
    /// <summary>IP addresses VMware Tools reported.</summary>
    public IReadOnlyList<string> IPAddresses { get; init; } = [];
    /// <summary>Static addresses the VM's cloud-init guestinfo gives the guest (applied at boot; not yet reported while it is off).</summary>
    public IReadOnlyList<string> GuestInfoIPAddresses { get; init; } = [];
    /// <summary>Guest OS as configured.</summary>
    public string? GuestOs { get; init; }
    /// <summary>BIOS UUID (the DMI product UUID the guest sees).</summary>
    public string? BiosUuid { get; init; }
    /// <summary>Firmware: bios or efi.</summary>
    public string? Firmware { get; init; }
    /// <summary>Datastore path of the .vmx file.</summary>
    public string? VmxPath { get; init; }
    /// <summary>VMware Tools state: Running, NotRunning, ExecutingScripts or Unknown.</summary>
    public string ToolsStatus { get; init; } = "Unknown";
    /// <summary>
    /// The VMware Tools version the guest last reported (<c>12.3.5</c>, decoded from the host's number), or null
    /// when the host has none. open-vm-tools report as <see cref="ToolsVersionStatus"/> <c>Unmanaged</c>.
    /// </summary>
    public string? ToolsVersion { get; init; }
    /// <summary>
    /// What the host says of that version (its toolsVersionStatus2 without the "guestTools" prefix): Current,
    /// NeedUpgrade, SupportedOld, SupportedNew, TooOld, TooNew, Blacklisted, Unmanaged (guest-managed, e.g.
    /// open-vm-tools), NotInstalled; null when the host reports nothing.
    /// </summary>
    public string? ToolsVersionStatus { get; init; }
    /// <summary>Number of snapshots.</summary>
    public int SnapshotCount { get; init; }
    /// <summary>Notes.</summary>
    public string? Annotation { get; init; }
    /// <summary>Whether the VM is marked as a template.</summary>
    public bool IsTemplate { get; init; }
    /// <summary>Total provisioned disk capacity in GiB.</summary>
    public double ProvisionedGB => Math.Round(Disks.Sum(d => d.CapacityBytes) / 1073741824.0, 2);
}
