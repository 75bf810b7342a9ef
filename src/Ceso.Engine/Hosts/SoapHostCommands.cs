using System.Text;
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
    /// <inheritdoc />
    public string Transport => "soap";

    /// <inheritdoc />
    public bool SupportsHotAdd => true;

    private MoRef FileManager => content.FileManager ?? throw NotAvailable("FileManager");

    private MoRef DiskManager => content.VirtualDiskManager ?? throw NotAvailable("VirtualDiskManager");

    private MoRef Pc => content.PropertyCollector;

    private static CesoException NotAvailable(string what) =>
        new("SoapNotSupported", CesoErrorKind.NotSupported, $"The host's API has no {what}; use -Transport Ssh.");

    // A *_Task call: the same run with and without progress.
    private HostCall Task(Func<string> shown, Func<IProgress<int>?, CancellationToken, Task> run) =>
        new(Transport, shown, ct => run(null, ct)) { RunWithProgress = run };

    /// <inheritdoc />
    public HostCall SetFirewallAllowlist(Model.CesoFirewallRuleset current, bool allowAll, IReadOnlyList<string> entries) =>
        new(Transport,
            $"UpdateRuleset(id=\"{current.Name}\", spec.allowedHosts={{allIp={(allowAll ? "true" : "false")}, {string.Join(", ", entries.DefaultIfEmpty("no addresses"))}}})",
            async ct =>
            {
                // The host's HostFirewallSystem, found when the call runs (one read; hostd names it per host).
                var view = await client.CreateContainerViewAsync(content.ViewManager, content.RootFolder, ["HostSystem"], ct).ConfigureAwait(false);
                var hosts = await client.RetrievePropertiesAsync(Pc, [new PropertySpec("HostSystem", ["configManager.firewallSystem"])],
                    [new ObjectSpec(view, true)], ct).ConfigureAwait(false);
                var fw = hosts.Select(h => h.Properties.GetValueOrDefault("configManager.firewallSystem")).FirstOrDefault(n => n?.Kind == VmodlKind.Reference)
                    ?? throw NotAvailable("HostFirewallSystem");
                await client.UpdateRulesetAllowedHostsAsync(new MoRef(fw.Type ?? "HostFirewallSystem", fw.Scalar!), current.Name, allowAll, entries, ct).ConfigureAwait(false);
            });

    /// <inheritdoc />
    public HostCall MakeDirectory(DatastorePath folder) =>
        new(Transport, $"MakeDirectory(name=\"{folder}\")", ct => client.MakeDirectoryAsync(FileManager, folder.ToString(), createParentDirectories: false, ct));

    /// <inheritdoc />
    public HostCall DeleteDirectory(DatastorePath folder) =>
        Task(() => $"DeleteDatastoreFile_Task(name=\"{folder}\")", (p, ct) => client.DeleteDatastoreFileAsync(Pc, FileManager, folder.ToString(), p, ct));

    /// <inheritdoc />
    public HostCall CopyDisk(DatastorePath source, DatastorePath target) =>
        Task(() => $"CopyVirtualDisk_Task(sourceName=\"{source}\", destName=\"{target}\", destSpec.diskType=thin)",
            (p, ct) => client.CopyVirtualDiskThinAsync(Pc, DiskManager, source.ToString(), target.ToString(), force: false, p, ct));

    /// <inheritdoc />
    public HostCall CreateDisk(DatastorePath disk, long capacityBytes) =>
        Task(() => $"CreateVirtualDisk_Task(name=\"{disk}\", capacityKb={capacityBytes / 1024}, diskType=thin)",
            (p, ct) => client.CreateVirtualDiskThinAsync(Pc, DiskManager, disk.ToString(), capacityBytes / 1024, p, ct));

    /// <inheritdoc />
    public HostCall ExtendDisk(DatastorePath disk, long capacityBytes) =>
        Task(() => $"ExtendVirtualDisk_Task(name=\"{disk}\", newCapacityKb={capacityBytes / 1024})",
            (p, ct) => client.ExtendVirtualDiskAsync(Pc, DiskManager, disk.ToString(), capacityBytes / 1024, eagerZero: false, p, ct));

    /// <inheritdoc />
    public HostCall DeleteDisk(DatastorePath disk) =>
        Task(() => $"DeleteVirtualDisk_Task(name=\"{disk}\")", (p, ct) => client.DeleteVirtualDiskAsync(Pc, DiskManager, disk.ToString(), p, ct));

    /// <inheritdoc />
    public HostCall MoveDisk(DatastorePath source, DatastorePath target) =>
        Task(() => $"MoveVirtualDisk_Task(sourceName=\"{source}\", destName=\"{target}\", force=false)",
            (p, ct) => client.MoveVirtualDiskAsync(Pc, DiskManager, source.ToString(), target.ToString(), force: false, p, ct));

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
            vm.Id = await client.RegisterVmAsync(Pc, vmx.ToString(), vm.Name, asTemplate: false, ct).ConfigureAwait(false)
                ?? throw new CesoException("SoapMalformedResponse", CesoErrorKind.HostError, "RegisterVM_Task returned no VM.");
        });

    /// <inheritdoc />
    public HostCall Unregister(VmHandle vm) =>
        new(Transport, () => $"UnregisterVM({vm.Display})", ct => client.VmCallAsync(VmMethod.UnregisterVM, vm.Required, ct));

    /// <inheritdoc />
    public HostCall Destroy(VmHandle vm) => Task(() => $"Destroy_Task({vm.Display})", (p, ct) => client.VmTaskAsync(Pc, VmTask.Destroy, vm.Required, p, ct));

    /// <inheritdoc />
    public HostCall Reload(VmHandle vm) => new(Transport, () => $"Reload({vm.Display})", ct => client.VmCallAsync(VmMethod.Reload, vm.Required, ct));

    /// <inheritdoc />
    public HostCall PowerOn(VmHandle vm) => Task(() => $"PowerOnVM_Task({vm.Display})", (p, ct) => client.VmTaskAsync(Pc, VmTask.PowerOn, vm.Required, p, ct));

    /// <inheritdoc />
    public HostCall PowerOff(VmHandle vm) => Task(() => $"PowerOffVM_Task({vm.Display})", (p, ct) => client.VmTaskAsync(Pc, VmTask.PowerOff, vm.Required, p, ct));

    /// <inheritdoc />
    public HostCall Shutdown(VmHandle vm) => new(Transport, () => $"ShutdownGuest({vm.Display})", ct => client.VmCallAsync(VmMethod.ShutdownGuest, vm.Required, ct));

    /// <inheritdoc />
    public HostCall Reset(VmHandle vm) => Task(() => $"ResetVM_Task({vm.Display})", (p, ct) => client.VmTaskAsync(Pc, VmTask.Reset, vm.Required, p, ct));

    /// <summary>
    /// Hot-adds CPUs and/or memory to a running VM (ReconfigVM_Task). Only the API can do this — there is no vim-cmd
    /// for it — and only when the VM has CPU/memory hot-add enabled.
    /// </summary>
    public HostCall HotAdd(VmHandle vm, int? numCpu, long? memoryMB) =>
        Task(() => $"ReconfigVM_Task({vm.Display}, {(numCpu is null ? "" : $"numCPUs={numCpu} ")}{(memoryMB is null ? "" : $"memoryMB={memoryMB}")})".Replace(" )", ")", StringComparison.Ordinal),
            (p, ct) => client.ReconfigCpuMemoryAsync(Pc, vm.Required, numCpu, memoryMB, p, ct));

    /// <inheritdoc />
    public HostCall CreateSnapshot(VmHandle vm, SnapshotHandle snapshot) =>
        new(Transport, () => $"CreateSnapshot_Task({vm.Display}, name=\"{snapshot.Name}\", memory=false, quiesce=false)", async ct =>
        {
            // The task's result is the new snapshot's reference: the one Ceso removes later, and only that one.
            snapshot.SoapRef = await client.CreateSnapshotAsync(Pc, vm.Required, snapshot.Name, "Ceso hot copy", memory: false, quiesce: false, ct).ConfigureAwait(false)
                ?? throw new CesoException("SoapMalformedResponse", CesoErrorKind.HostError, "CreateSnapshot_Task returned no snapshot.");
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

            await client.RemoveSnapshotAsync(Pc, snapshot.SoapRef, removeChildren: false, consolidate: true, progress, ct).ConfigureAwait(false);
        }

        return new HostCall(Transport, Shown, ct => RunAsync(null, ct)) { RunWithProgress = RunAsync };
    }

    // The references of the VM's snapshots named `name` (its `snapshot` property: the tree of rootSnapshotList).
    private async Task<List<string>> FindSnapshotsAsync(VmHandle vm, string name, CancellationToken ct)
    {
        var objects = await client.RetrievePropertiesAsync(Pc, [new PropertySpec("VirtualMachine", ["snapshot"])],
            [new ObjectSpec(new MoRef("VirtualMachine", vm.Required), false)], ct).ConfigureAwait(false);
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
