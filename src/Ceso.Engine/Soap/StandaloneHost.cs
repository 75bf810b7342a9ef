namespace Ceso.Engine.Soap;

/// <summary>
/// The fixed objects of a standalone host's hostd (no vCenter): one datacenter, one VM folder and one root resource
/// pool, always with these ids. The one place Ceso names them; every call and URL takes them from here.
/// </summary>
public static class StandaloneHost
{
    /// <summary>The datacenter's name: the <c>dcPath</c> of datastore HTTP URLs.</summary>
    public const string DatacenterName = "ha-datacenter";

    /// <summary>The datacenter (the <c>datacenter</c> argument of FileManager and VirtualDiskManager calls).</summary>
    public static MoRef Datacenter { get; } = new("Datacenter", DatacenterName);

    /// <summary>The folder VMs are registered in.</summary>
    public static MoRef VmFolder { get; } = new("Folder", "ha-folder-vm");

    /// <summary>The root resource pool new VMs go into.</summary>
    public static MoRef RootPool { get; } = new("ResourcePool", "ha-root-pool");

    /// <summary>Roles and permissions (AuthorizationManager).</summary>
    public static MoRef AuthorizationManager { get; } = new("AuthorizationManager", "ha-authmgr");

    /// <summary>Local users (HostLocalAccountManager).</summary>
    public static MoRef AccountManager { get; } = new("HostLocalAccountManager", "ha-localacctmgr");
}
