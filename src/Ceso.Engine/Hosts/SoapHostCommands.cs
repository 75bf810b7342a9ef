using System.Globalization;
using System.Text;
using System.Xml.Linq;
using Ceso.Engine.Formats;
using Ceso.Engine.Soap;
using Ceso.Engine.Vmodl;

namespace Ceso.Engine.Hosts;

/// <summary>
/// Host changes through the vSphere API. A free-licensed host refuses these with RestrictedVersion; plans then fall
/// back to <see cref="SshHostCommands"/> through <see cref="FallbackHostCommands"/>. Standalone hostd's fixed objects
/// (datacenter, VM folder, root pool) come from <see cref="StandaloneHost"/>.
/// </summary>
/// <param name="client">The session's API client.</param>
/// <param name="content">The host's service content.</param>
/// <param name="files">The session's datastore files over the API: file writes go through them (a temporary name, then a move).</param>
public sealed class SoapHostCommands(VimClient client, ServiceContent content, SoapFiles files) : IHostCommands
{
    private static readonly XNamespace Vim = "urn:vim25";
    private static readonly XNamespace Xsi = "http://www.w3.org/2001/XMLSchema-instance";
    private static MoRef Datacenter => StandaloneHost.Datacenter;

    /// <inheritdoc />
    public string Transport => "soap";

    /// <inheritdoc />
    public bool SupportsHotAdd => true;

    private MoRef FileManager => content.FileManager ?? throw NotAvailable("FileManager");

    private MoRef DiskManager => content.VirtualDiskManager ?? throw NotAvailable("VirtualDiskManager");

    private static CesoException NotAvailable(string what) =>
        new("SoapNotSupported", CesoErrorKind.NotSupported, $"The host's API has no {what}; use -Transport Ssh.");

    private HostCall Task(string method, Func<MoRef> target, Func<string> shown, params XElement[] args) =>
        new(Transport, shown, ct => client.InvokeTaskAsync(content.PropertyCollector, method, target(), args, ct))
        {
            RunWithProgress = (progress, ct) => client.InvokeTaskAsync(content.PropertyCollector, method, target(), args, ct, progress),
        };

    private static XElement E(string name, object value) => new(Vim + name, value);

    private static XElement Ref(string name, MoRef r) => VimClient.RefElement(name, r);

    private static MoRef VmRef(VmHandle vm) => new("VirtualMachine", vm.Required);

    /// <inheritdoc />
    public HostCall SetFirewallAllowlist(Model.CesoFirewallRuleset current, bool allowAll, IReadOnlyList<string> entries) =>
        new(Transport,
            $"UpdateRuleset(id=\"{current.Name}\", spec.allowedHosts={{allIp={(allowAll ? "true" : "false")}, {string.Join(", ", entries.DefaultIfEmpty("no addresses"))}}})",
            async ct =>
            {
                // The host's HostFirewallSystem, found when the call runs (one read; hostd names it per host).
                var view = await client.CreateContainerViewAsync(content.ViewManager, content.RootFolder, ["HostSystem"], ct).ConfigureAwait(false);
                var hosts = await client.RetrievePropertiesAsync(content.PropertyCollector, [new PropertySpec("HostSystem", ["configManager.firewallSystem"])],
                    [new ObjectSpec(view, true)], ct).ConfigureAwait(false);
                var fw = hosts.Select(h => h.Properties.GetValueOrDefault("configManager.firewallSystem")).FirstOrDefault(n => n?.Kind == Vmodl.VmodlKind.Reference)
                    ?? throw NotAvailable("HostFirewallSystem");
                await client.InvokeAsync("UpdateRuleset", new MoRef(fw.Type ?? "HostFirewallSystem", fw.Scalar!), [E("id", current.Name), HostFirewall.ApiSpec(allowAll, entries)], ct)
                    .ConfigureAwait(false);
            });

    /// <inheritdoc />
    public HostCall MakeDirectory(DatastorePath folder) =>
        new(Transport, $"MakeDirectory(name=\"{folder}\")", ct => client.InvokeAsync("MakeDirectory", FileManager,
            [E("name", folder.ToString()), Ref("datacenter", Datacenter), E("createParentDirectories", "false")], ct));

    /// <inheritdoc />
    public HostCall DeleteDirectory(DatastorePath folder) =>
        Task("DeleteDatastoreFile_Task", () => FileManager, () => $"DeleteDatastoreFile_Task(name=\"{folder}\")",
            E("name", folder.ToString()), Ref("datacenter", Datacenter));

    /// <inheritdoc />
    public HostCall CopyDisk(DatastorePath source, DatastorePath target) =>
        Task("CopyVirtualDisk_Task", () => DiskManager, () => $"CopyVirtualDisk_Task(sourceName=\"{source}\", destName=\"{target}\", destSpec.diskType=thin)",
            E("sourceName", source.ToString()), Ref("sourceDatacenter", Datacenter),
            E("destName", target.ToString()), Ref("destDatacenter", Datacenter),
            new XElement(Vim + "destSpec", new XAttribute(Xsi + "type", "VirtualDiskSpec"), E("diskType", "thin"), E("adapterType", "lsiLogic")),
            E("force", "false"));

    /// <inheritdoc />
    public HostCall CreateDisk(DatastorePath disk, long capacityBytes) =>
        Task("CreateVirtualDisk_Task", () => DiskManager, () => $"CreateVirtualDisk_Task(name=\"{disk}\", capacityKb={capacityBytes / 1024}, diskType=thin)",
            E("name", disk.ToString()), Ref("datacenter", Datacenter),
            new XElement(Vim + "spec", new XAttribute(Xsi + "type", "FileBackedVirtualDiskSpec"), E("diskType", "thin"), E("adapterType", "lsiLogic"),
                E("capacityKb", (capacityBytes / 1024).ToString(CultureInfo.InvariantCulture))));

    /// <inheritdoc />
    public HostCall ExtendDisk(DatastorePath disk, long capacityBytes) =>
        Task("ExtendVirtualDisk_Task", () => DiskManager, () => $"ExtendVirtualDisk_Task(name=\"{disk}\", newCapacityKb={capacityBytes / 1024})",
            E("name", disk.ToString()), Ref("datacenter", Datacenter),
            E("newCapacityKb", (capacityBytes / 1024).ToString(CultureInfo.InvariantCulture)), E("eagerZero", "false"));

    /// <inheritdoc />
    public HostCall DeleteDisk(DatastorePath disk) =>
        Task("DeleteVirtualDisk_Task", () => DiskManager, () => $"DeleteVirtualDisk_Task(name=\"{disk}\")", E("name", disk.ToString()), Ref("datacenter", Datacenter));

    /// <inheritdoc />
    public HostCall MoveDisk(DatastorePath source, DatastorePath target) =>
        Task("MoveVirtualDisk_Task", () => DiskManager, () => $"MoveVirtualDisk_Task(sourceName=\"{source}\", destName=\"{target}\", force=false)",
            E("sourceName", source.ToString()), Ref("sourceDatacenter", Datacenter),
            E("destName", target.ToString()), Ref("destDatacenter", Datacenter), E("force", "false"));

    /// <inheritdoc />
    /// <remarks>
    /// The text says what is sent: a PUT to a hidden temporary name in the same folder, then MoveDatastoreFile_Task over
    /// the target. The temporary name is drawn when the call runs (a placeholder until then, so the preview and the
    /// plan's digest do not change from plan to plan); after the run the text names the one that was used.
    /// </remarks>
    public HostCall WriteFile(DatastorePath file, string content)
    {
        DatastorePath? used = null;
        string Shown()
        {
            var temp = used ?? file.Folder.Child("." + file.FileName + ".ceso-<8 random hex digits>.part");
            return $"PUT /folder/{temp.Path}?dsName={file.Datastore} <{content.Length} bytes: {file.FileName}>; " +
                $"MoveDatastoreFile_Task(sourceName=\"{temp}\", destinationName=\"{file}\", force=true)";
        }

        return new(Transport, Shown, async ct =>
        {
            // Atomic like the SSH twin: the bytes go to a temporary name and are moved over the .vmx only when all
            // of them arrived, so a PUT cut off half-way never leaves a truncated .vmx behind.
            var temp = HostFileErrors.TempFor(file);
            used = temp;
            var bytes = Encoding.UTF8.GetBytes(content);
            await files.WriteAsync(file, temp, new MemoryStream(bytes), bytes.Length, null, ct).ConfigureAwait(false);
        })
        {
            Payload = content,
        };
    }

    /// <inheritdoc />
    public HostCall Register(DatastorePath vmx, VmHandle vm) =>
        new(Transport, $"RegisterVM_Task(path=\"{vmx}\", name=\"{vm.Name}\", asTemplate=false)", async ct =>
        {
            var result = await client.InvokeTaskAsync(content.PropertyCollector, "RegisterVM_Task", StandaloneHost.VmFolder,
                [E("path", vmx.ToString()), E("name", vm.Name), E("asTemplate", "false"), Ref("pool", StandaloneHost.RootPool)], ct).ConfigureAwait(false);
            vm.Id = result?.Scalar ?? throw new CesoException("SoapMalformedResponse", CesoErrorKind.HostError, "RegisterVM_Task returned no VM.");
        });

    /// <inheritdoc />
    public HostCall Unregister(VmHandle vm) =>
        new(Transport, () => $"UnregisterVM({vm.Display})", ct => client.InvokeAsync("UnregisterVM", VmRef(vm), [], ct));

    /// <inheritdoc />
    public HostCall Destroy(VmHandle vm) => Task("Destroy_Task", () => VmRef(vm), () => $"Destroy_Task({vm.Display})");

    /// <inheritdoc />
    public HostCall Reload(VmHandle vm) => new(Transport, () => $"Reload({vm.Display})", ct => client.InvokeAsync("Reload", VmRef(vm), [], ct));

    /// <inheritdoc />
    public HostCall PowerOn(VmHandle vm) => Task("PowerOnVM_Task", () => VmRef(vm), () => $"PowerOnVM_Task({vm.Display})");

    /// <inheritdoc />
    public HostCall PowerOff(VmHandle vm) => Task("PowerOffVM_Task", () => VmRef(vm), () => $"PowerOffVM_Task({vm.Display})");

    /// <inheritdoc />
    public HostCall Shutdown(VmHandle vm) => new(Transport, () => $"ShutdownGuest({vm.Display})", ct => client.InvokeAsync("ShutdownGuest", VmRef(vm), [], ct));

    /// <inheritdoc />
    public HostCall Reset(VmHandle vm) => Task("ResetVM_Task", () => VmRef(vm), () => $"ResetVM_Task({vm.Display})");

    /// <summary>
    /// Hot-adds CPUs and/or memory to a running VM (ReconfigVM_Task). Only the API can do this — there is no vim-cmd
    /// for it — and only when the VM has CPU/memory hot-add enabled.
    /// </summary>
    public HostCall HotAdd(VmHandle vm, int? numCpu, long? memoryMB)
    {
        var spec = new XElement(Vim + "spec", new XAttribute(Xsi + "type", "VirtualMachineConfigSpec"));
        if (numCpu is { } c)
        {
            spec.Add(E("numCPUs", c.ToString(CultureInfo.InvariantCulture)));
        }

        if (memoryMB is { } m)
        {
            spec.Add(E("memoryMB", m.ToString(CultureInfo.InvariantCulture)));
        }

        return Task("ReconfigVM_Task", () => VmRef(vm), () => $"ReconfigVM_Task({vm.Display}, {(numCpu is null ? "" : $"numCPUs={numCpu} ")}{(memoryMB is null ? "" : $"memoryMB={memoryMB}")})".Replace(" )", ")", StringComparison.Ordinal), spec);
    }

    /// <inheritdoc />
    public HostCall CreateSnapshot(VmHandle vm, SnapshotHandle snapshot) =>
        new(Transport, () => $"CreateSnapshot_Task({vm.Display}, name=\"{snapshot.Name}\", memory=false, quiesce=false)", async ct =>
        {
            var result = await client.InvokeTaskAsync(content.PropertyCollector, "CreateSnapshot_Task", VmRef(vm),
                [E("name", snapshot.Name), E("description", "Ceso hot copy"), E("memory", "false"), E("quiesce", "false")], ct).ConfigureAwait(false);
            // The task's result is the new snapshot's reference: the one Ceso removes later, and only that one.
            snapshot.SoapRef = result?.Scalar ?? throw new CesoException("SoapMalformedResponse", CesoErrorKind.HostError, "CreateSnapshot_Task returned no snapshot.");
        });

    /// <inheritdoc />
    /// <remarks>
    /// When the id is not known (the snapshot step failed or was cancelled after hostd may have made it, or it was made
    /// over SSH), the VM's snapshot tree is read and the one snapshot with the unique name is removed; none = nothing to
    /// do (<see cref="SnapshotHandle.Absent"/>); more than one = an error, and none is touched.
    /// </remarks>
    public HostCall RemoveSnapshot(VmHandle vm, SnapshotHandle snapshot)
    {
        string Shown() => snapshot.Absent
            ? $"nothing to remove: '{vm.Name}' has no snapshot named '{snapshot.Name}'"
            : $"RemoveSnapshot_Task({snapshot.SoapRef ?? snapshot.Placeholder}, removeChildren=false, consolidate=true)";

        async Task RunAsync(IProgress<int>? progress, CancellationToken ct)
        {
            snapshot.Absent = false;
            if (snapshot.SoapRef is null)
            {
                var found = await FindSnapshotsAsync(vm, snapshot.Name, ct).ConfigureAwait(false);
                switch (found.Count)
                {
                    case 0:
                        snapshot.Absent = true;
                        return;
                    case > 1:
                        throw new CesoException("SnapshotAmbiguous", CesoErrorKind.InvalidState,
                            $"'{vm.Name}' has {found.Count} snapshots named '{snapshot.Name}'; Ceso removes none of them. Remove the one that is Ceso's by hand.") { Target = vm.Name };
                }

                snapshot.SoapRef = found[0];
            }

            await client.InvokeTaskAsync(content.PropertyCollector, "RemoveSnapshot_Task", new MoRef("VirtualMachineSnapshot", snapshot.SoapRef),
                [E("removeChildren", "false"), E("consolidate", "true")], ct, progress).ConfigureAwait(false);
        }

        return new HostCall(Transport, Shown, ct => RunAsync(null, ct)) { RunWithProgress = RunAsync };
    }

    // The references of the VM's snapshots named `name` (its `snapshot` property: the tree of rootSnapshotList).
    private async Task<List<string>> FindSnapshotsAsync(VmHandle vm, string name, CancellationToken ct)
    {
        var objects = await client.RetrievePropertiesAsync(content.PropertyCollector, [new PropertySpec("VirtualMachine", ["snapshot"])],
            [new ObjectSpec(VmRef(vm), false)], ct).ConfigureAwait(false);
        var found = new List<string>();
        void Walk(VmodlNode? list)
        {
            foreach (var s in list?.AsList() ?? [])
            {
                if (s.String("name") == name && s.Get("snapshot")?.Scalar is { } r)
                {
                    found.Add(r);
                }

                Walk(s.Get("childSnapshotList"));
            }
        }

        Walk(objects.FirstOrDefault()?.Properties.GetValueOrDefault("snapshot")?.Get("rootSnapshotList"));
        return found;
    }
}
