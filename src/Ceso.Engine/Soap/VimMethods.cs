using System.Globalization;
using System.Xml.Linq;

namespace Ceso.Engine.Soap;

/// <summary>
/// The vim25 methods Ceso calls, typed: each takes its arguments as values and builds the request elements in the
/// order the WSDL gives them, so no call site above this layer writes XML. Datacenter arguments are always
/// <see cref="StandaloneHost.Datacenter"/> (a standalone host has one). *_Task methods wait for their task and report
/// its progress (<see cref="VimClient.InvokeTaskAsync"/>).
/// </summary>
public static class VimMethods
{
    private static readonly XNamespace Vim = VimClient.Vim;
    private static readonly XNamespace Xsi = "http://www.w3.org/2001/XMLSchema-instance";

    private static XElement E(string name, object value) => new(Vim + name, value);

    private static XElement Ref(string name, MoRef r) => VimClient.RefElement(name, r);

    private static string Bool(bool b) => b ? "true" : "false";

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static MoRef Dc => StandaloneHost.Datacenter;

    /// <summary>FileManager.MakeDirectory.</summary>
    public static Task MakeDirectoryAsync(this VimClient c, MoRef fileManager, string name, bool createParentDirectories, CancellationToken ct) =>
        c.InvokeAsync("MakeDirectory", fileManager, [E("name", name), Ref("datacenter", Dc), E("createParentDirectories", Bool(createParentDirectories))], ct);

    /// <summary>FileManager.DeleteDatastoreFile_Task (a file or a folder with everything in it).</summary>
    public static Task DeleteDatastoreFileAsync(this VimClient c, MoRef pc, MoRef fileManager, string name, IProgress<int>? progress, CancellationToken ct) =>
        c.InvokeTaskAsync(pc, "DeleteDatastoreFile_Task", fileManager, [E("name", name), Ref("datacenter", Dc)], ct, progress);

    /// <summary>FileManager.MoveDatastoreFile_Task.</summary>
    public static Task MoveDatastoreFileAsync(this VimClient c, MoRef pc, MoRef fileManager, string sourceName, string destinationName, bool force, CancellationToken ct) =>
        c.InvokeTaskAsync(pc, "MoveDatastoreFile_Task", fileManager,
            [E("sourceName", sourceName), Ref("sourceDatacenter", Dc), E("destinationName", destinationName), Ref("destinationDatacenter", Dc), E("force", Bool(force))], ct);

    /// <summary>VirtualDiskManager.CopyVirtualDisk_Task to a thin disk (destSpec: VirtualDiskSpec thin, lsiLogic).</summary>
    public static Task CopyVirtualDiskThinAsync(this VimClient c, MoRef pc, MoRef diskManager, string sourceName, string destName, bool force, IProgress<int>? progress, CancellationToken ct) =>
        c.InvokeTaskAsync(pc, "CopyVirtualDisk_Task", diskManager,
            [
                E("sourceName", sourceName), Ref("sourceDatacenter", Dc), E("destName", destName), Ref("destDatacenter", Dc),
                new XElement(Vim + "destSpec", new XAttribute(Xsi + "type", "VirtualDiskSpec"), E("diskType", "thin"), E("adapterType", "lsiLogic")),
                E("force", Bool(force)),
            ], ct, progress);

    /// <summary>VirtualDiskManager.CreateVirtualDisk_Task of an empty thin disk (FileBackedVirtualDiskSpec, lsiLogic).</summary>
    public static Task CreateVirtualDiskThinAsync(this VimClient c, MoRef pc, MoRef diskManager, string name, long capacityKb, IProgress<int>? progress, CancellationToken ct) =>
        c.InvokeTaskAsync(pc, "CreateVirtualDisk_Task", diskManager,
            [
                E("name", name), Ref("datacenter", Dc),
                new XElement(Vim + "spec", new XAttribute(Xsi + "type", "FileBackedVirtualDiskSpec"), E("diskType", "thin"), E("adapterType", "lsiLogic"), E("capacityKb", Num(capacityKb))),
            ], ct, progress);

    /// <summary>VirtualDiskManager.ExtendVirtualDisk_Task.</summary>
    public static Task ExtendVirtualDiskAsync(this VimClient c, MoRef pc, MoRef diskManager, string name, long newCapacityKb, bool eagerZero, IProgress<int>? progress, CancellationToken ct) =>
        c.InvokeTaskAsync(pc, "ExtendVirtualDisk_Task", diskManager,
            [E("name", name), Ref("datacenter", Dc), E("newCapacityKb", Num(newCapacityKb)), E("eagerZero", Bool(eagerZero))], ct, progress);

    /// <summary>VirtualDiskManager.DeleteVirtualDisk_Task (descriptor and extents).</summary>
    public static Task DeleteVirtualDiskAsync(this VimClient c, MoRef pc, MoRef diskManager, string name, IProgress<int>? progress, CancellationToken ct) =>
        c.InvokeTaskAsync(pc, "DeleteVirtualDisk_Task", diskManager, [E("name", name), Ref("datacenter", Dc)], ct, progress);

    /// <summary>VirtualDiskManager.MoveVirtualDisk_Task.</summary>
    public static Task MoveVirtualDiskAsync(this VimClient c, MoRef pc, MoRef diskManager, string sourceName, string destName, bool force, IProgress<int>? progress, CancellationToken ct) =>
        c.InvokeTaskAsync(pc, "MoveVirtualDisk_Task", diskManager,
            [E("sourceName", sourceName), Ref("sourceDatacenter", Dc), E("destName", destName), Ref("destDatacenter", Dc), E("force", Bool(force))], ct, progress);

    /// <summary>Folder.RegisterVM_Task into the host's VM folder and root pool; returns the new VM's id (or null when the host sent none).</summary>
    public static async Task<string?> RegisterVmAsync(this VimClient c, MoRef pc, string path, string name, bool asTemplate, CancellationToken ct) =>
        (await c.InvokeTaskAsync(pc, "RegisterVM_Task", StandaloneHost.VmFolder,
            [E("path", path), E("name", name), E("asTemplate", Bool(asTemplate)), Ref("pool", StandaloneHost.RootPool)], ct).ConfigureAwait(false))?.Scalar;

    /// <summary>A VM method without arguments that answers at once (UnregisterVM, Reload, ShutdownGuest).</summary>
    public static Task VmCallAsync(this VimClient c, VmMethod method, string vmId, CancellationToken ct) =>
        c.InvokeAsync(method.ToString(), Vm(vmId), [], ct);

    /// <summary>A VM *_Task method without arguments (Destroy_Task, PowerOnVM_Task, PowerOffVM_Task, ResetVM_Task).</summary>
    public static Task VmTaskAsync(this VimClient c, MoRef pc, VmTask method, string vmId, IProgress<int>? progress, CancellationToken ct) =>
        c.InvokeTaskAsync(pc, method switch
        {
            VmTask.Destroy => "Destroy_Task",
            VmTask.PowerOn => "PowerOnVM_Task",
            VmTask.PowerOff => "PowerOffVM_Task",
            _ => "ResetVM_Task",
        }, Vm(vmId), [], ct, progress);

    /// <summary>VirtualMachine.ReconfigVM_Task with a spec of only CPUs and/or memory (hot-add).</summary>
    public static Task ReconfigCpuMemoryAsync(this VimClient c, MoRef pc, string vmId, int? numCpus, long? memoryMB, IProgress<int>? progress, CancellationToken ct)
    {
        var spec = new XElement(Vim + "spec", new XAttribute(Xsi + "type", "VirtualMachineConfigSpec"));
        if (numCpus is { } n) spec.Add(E("numCPUs", Num(n)));
        if (memoryMB is { } m) spec.Add(E("memoryMB", Num(m)));
        return c.InvokeTaskAsync(pc, "ReconfigVM_Task", Vm(vmId), [spec], ct, progress);
    }

    /// <summary>VirtualMachine.CreateSnapshot_Task; returns the new snapshot's reference value (or null when the host sent none).</summary>
    public static async Task<string?> CreateSnapshotAsync(this VimClient c, MoRef pc, string vmId, string name, string description, bool memory, bool quiesce, CancellationToken ct) =>
        (await c.InvokeTaskAsync(pc, "CreateSnapshot_Task", Vm(vmId),
            [E("name", name), E("description", description), E("memory", Bool(memory)), E("quiesce", Bool(quiesce))], ct).ConfigureAwait(false))?.Scalar;

    /// <summary>VirtualMachineSnapshot.RemoveSnapshot_Task.</summary>
    public static Task RemoveSnapshotAsync(this VimClient c, MoRef pc, string snapshotRef, bool removeChildren, bool consolidate, IProgress<int>? progress, CancellationToken ct) =>
        c.InvokeTaskAsync(pc, "RemoveSnapshot_Task", new MoRef("VirtualMachineSnapshot", snapshotRef),
            [E("removeChildren", Bool(removeChildren)), E("consolidate", Bool(consolidate))], ct, progress);

    /// <summary>HostFirewallSystem.UpdateRuleset with only the allowed hosts (addresses and CIDR networks) in the spec.</summary>
    public static Task UpdateRulesetAllowedHostsAsync(this VimClient c, MoRef firewallSystem, string id, bool allIp, IReadOnlyList<string> entries, CancellationToken ct) =>
        c.InvokeAsync("UpdateRuleset", firewallSystem,
            [
                E("id", id),
                new XElement(Vim + "spec",
                    new XElement(Vim + "allowedHosts",
                        entries.Where(e => !e.Contains('/')).Select(a => E("ipAddress", a)),
                        entries.Where(e => e.Contains('/')).Select(n => new XElement(Vim + "ipNetwork",
                            E("network", n[..n.IndexOf('/')]), E("prefixLength", n[(n.IndexOf('/') + 1)..]))),
                        E("allIp", Bool(allIp)))),
            ], ct);

    private static MoRef Vm(string vmId) => new("VirtualMachine", vmId);
}

/// <summary>VM methods without arguments that answer at once.</summary>
public enum VmMethod
{
    /// <summary>Unregisters the VM, keeping its files.</summary>
    UnregisterVM,

    /// <summary>Re-reads the .vmx.</summary>
    Reload,

    /// <summary>Asks the guest to shut down.</summary>
    ShutdownGuest,
}

/// <summary>VM *_Task methods without arguments.</summary>
public enum VmTask
{
    /// <summary>Destroy_Task: unregister and delete the files.</summary>
    Destroy,

    /// <summary>PowerOnVM_Task.</summary>
    PowerOn,

    /// <summary>PowerOffVM_Task.</summary>
    PowerOff,

    /// <summary>ResetVM_Task.</summary>
    Reset,
}
