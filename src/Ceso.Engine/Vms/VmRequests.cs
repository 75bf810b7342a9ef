namespace Ceso.Engine.Vms;

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
