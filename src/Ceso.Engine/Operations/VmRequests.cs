namespace Ceso.Engine.Operations;

/// <summary>New-CesoVm: a VM from a template, with its own identity and cloud-init guestinfo.</summary>
public sealed record CreateVmRequest
{
    /// <summary>Name of the new VM (also its folder and file base name).</summary>
    public required string Name { get; init; }
    /// <summary>The template: a registered, powered-off VM (by name or id).</summary>
    public required string Template { get; init; }
    /// <summary>Network settings and keys for cloud-init.</summary>
    public CloudInit.GuestInfoRequest? Guest { get; init; }
    /// <summary>vCPUs (null = the template's).</summary>
    public int? NumCpu { get; init; }
    /// <summary>Memory in MiB (null = the template's).</summary>
    public long? MemoryMB { get; init; }
    /// <summary>Size of the first disk in GiB; grown when larger than the template's (never shrunk).</summary>
    public int? DiskGB { get; init; }
    /// <summary>Datastore for the VM (null = the template's).</summary>
    public string? Datastore { get; init; }
    /// <summary>Portgroup for the first NIC (null = the template's).</summary>
    public string? Network { get; init; }
    /// <summary>Power on after creating.</summary>
    public bool PowerOn { get; init; }
}

/// <summary>Copy-CesoVm: a copy of a VM with a new identity; hot through a snapshot that is always removed.</summary>
public sealed record CloneVmRequest
{
    /// <summary>The source VM (name or id).</summary>
    public required string Source { get; init; }
    /// <summary>Name of the copy.</summary>
    public required string Name { get; init; }
    /// <summary>New network settings for the copy (null keeps none: cloud-init then gets only a new instance-id and hostname).</summary>
    public CloudInit.GuestInfoRequest? Guest { get; init; }
    /// <summary>Copy a running VM through a temporary snapshot.</summary>
    public bool Hot { get; init; }
    /// <summary>Datastore for the copy (null = the source's).</summary>
    public string? Datastore { get; init; }
    /// <summary>Power on after copying.</summary>
    public bool PowerOn { get; init; }
}

/// <summary>What the power cmdlets ask for.</summary>
public enum PowerAction
{
    /// <summary>Power on.</summary>
    Start,
    /// <summary>Guest shutdown through VMware Tools.</summary>
    Shutdown,
    /// <summary>Immediate power-off.</summary>
    Kill,
    /// <summary>Hard reset.</summary>
    Reset,
}

/// <summary>Set-CesoVm: what to change. Null/false means "leave as it is".</summary>
public sealed record ReconfigureRequest
{
    /// <summary>The VM (name or id).</summary>
    public required string Vm { get; init; }
    /// <summary>vCPUs.</summary>
    public int? NumCpu { get; init; }
    /// <summary>Memory in MiB.</summary>
    public long? MemoryMB { get; init; }
    /// <summary>Add a new thin disk of this size (GiB).</summary>
    public int? AddDiskGB { get; init; }
    /// <summary>Grow disk Index (0-based) to SizeGB.</summary>
    public (int Index, int SizeGB)? ExtendDisk { get; init; }
    /// <summary>Add a vmxnet3 NIC on this portgroup.</summary>
    public string? AddNicNetwork { get; init; }
    /// <summary>Remove the NIC with this index (0-based among NICs).</summary>
    public int? RemoveNic { get; init; }
    /// <summary>Change NIC Index's adapter type (vmxnet3, e1000e, e1000).</summary>
    public (int Index, string Type)? AdapterType { get; init; }
    /// <summary>Connect NIC Index to this portgroup.</summary>
    public (int Index, string Network)? NicNetwork { get; init; }
    /// <summary>bios or efi.</summary>
    public string? Firmware { get; init; }
    /// <summary>UEFI Secure Boot on or off (needs efi).</summary>
    public bool? SecureBoot { get; init; }
    /// <summary>Connect this ISO ("[ds] path.iso").</summary>
    public string? IsoPath { get; init; }
    /// <summary>Disconnect the ISO.</summary>
    public bool EjectIso { get; init; }
    /// <summary>New cloud-init guestinfo (re-IP); gets a new instance-id so cloud-init applies it at next boot.</summary>
    public CloudInit.GuestInfoRequest? Guest { get; init; }
    /// <summary>New notes.</summary>
    public string? Annotation { get; init; }
    /// <summary>Enable (or disable) CPU and memory hot-add, so later increases work while the VM runs.</summary>
    public bool? HotAdd { get; init; }

    /// <summary>True when the request only raises CPUs and/or memory (the one change a running VM can take).</summary>
    internal bool OnlyCpuOrMemory => (NumCpu is not null || MemoryMB is not null) && AddDiskGB is null && ExtendDisk is null
        && AddNicNetwork is null && RemoveNic is null && AdapterType is null && NicNetwork is null && Firmware is null
        && SecureBoot is null && IsoPath is null && !EjectIso && Guest is null && Annotation is null && HotAdd is null;
}
