using Ceso.Engine.Backup;
using Ceso.Engine.CloudInit;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Hosts.DiskIo;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;

namespace Ceso.Engine.Operations;

/// <summary>What Restore-CesoVm -AsNew is asked for.</summary>
/// <param name="Backup">The backup: its id or a unique prefix of it.</param>
/// <param name="Name">The new VM's name (also its folder and file names).</param>
/// <param name="Guest">cloud-init input for the new VM (static addresses, keys), or null for a new instance-id and hostname only.</param>
/// <param name="Datastore">Where the new VM goes (null = the datastore the backed-up VM was on).</param>
/// <param name="PowerOn">Power it on at the end.</param>
public sealed record RestoreVmRequest(string Backup, string Name, GuestInfoRequest? Guest = null, string? Datastore = null, bool PowerOn = false);

/// <summary>
/// Restore-CesoVm -AsNew: a backup becomes a new VM with a new identity (BIOS UUID, MACs, cloud-init instance-id; the
/// same code as Copy-CesoVm): a new folder, each disk created thin and only its stored (non-zero) blocks written at
/// their offsets, so a restored thin disk stays thin; the .vmx and .nvram written; registered. Space is checked
/// before anything is written, and a failure half-way removes the folder, and with it everything the restore wrote.
/// </summary>
internal sealed class RestoreVm(OperationContext context, VmGuards guards)
{
    /// <summary>Plans the restore (reads only: the backup's manifest, the host's VMs and datastores).</summary>
    public async Task<(Plan Plan, VmRef Vm)> PlanAsync(RestoreVmRequest r, BackupRepository repository, string repositoryLabel, CancellationToken ct)
    {
        var manifest = await repository.LoadSnapshotAsync(r.Backup, ct).ConfigureAwait(false);
        var name = r.Name;
        guards.ValidateName(name);
        var vms = await context.Session.Inventory.GetVmsAsync(ct).ConfigureAwait(false);
        if (vms.Any(v => v.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
        {
            throw context.Invalid("VmExists", $"A VM named '{name}' already exists on {context.Host}. Choose another name for the restored VM (-AsNew NAME).", name);
        }

        if (manifest.Header.VmxText is not { } vmxText)
        {
            throw context.Invalid("BackupHasNoVmx", $"Backup {manifest.Id[..8]} of '{manifest.Header.VmName}' holds no .vmx, so there is no VM to restore.", manifest.Id);
        }

        var disks = manifest.Disks.Select(d => (Disk: d, Path: DatastorePath.Parse(d.Name))).ToList();
        var ds = r.Datastore ?? disks.FirstOrDefault().Path?.Datastore ?? throw context.Invalid("DatastoreRequired", "The backup does not say which datastore the VM was on; give -Datastore.", manifest.Id);
        var stores = await context.Session.Inventory.GetDatastoresAsync(ct).ConfigureAwait(false);
        var store = stores.FirstOrDefault(s => s.Name == ds)
            ?? throw context.Invalid("DatastoreNotFound", $"Datastore '{ds}' does not exist on {context.Host}; available: {string.Join(", ", stores.Select(s => s.Name))}. Give -Datastore.", ds);
        var need = manifest.Disks.Sum(d => (long)d.Blocks.Count * d.BlockSize) + manifest.Files.Sum(f => f.Size);
        if (store.FreeBytes > 0 && need > store.FreeBytes - (store.CapacityBytes / 100))
        {
            throw context.Invalid("DatastoreTooSmall", $"Restoring '{manifest.Header.VmName}' writes about {BackupVm.FormatBytes(need)} of data; datastore '{ds}' has {BackupVm.FormatBytes(store.FreeBytes)} free. Free space there, or give another -Datastore.", ds);
        }

        var folder = new DatastorePath(ds, name);
        if (await context.ExistsAsync(folder, ct).ConfigureAwait(false))
        {
            throw context.Invalid("FolderExists", $"The folder {folder} already exists on {context.Host}; Ceso never writes into an existing folder. Choose another name or remove the folder.", name);
        }

        // A writer exists for the session or the restore cannot keep disks thin: refused now, before anything is written.
        var writer = DiskBlockIo.WriterFor(context.Session.Host);
        var seed = IdentitySeed.For(context.Home, "RestoreVm", context.Host, repository.Id, manifest.Id, name, System.Text.Json.JsonSerializer.Serialize(r.Guest), ds, r.PowerOn ? "on" : "off");
        var rewrite = VmxIdentity.Rewrite(ParseVmx(vmxText, manifest.Id), new VmxIdentity.Target(name, null, null, null, new Dictionary<string, string>(), null), seed);
        var info = GuestInfoBuilder.Build(VmCopy.GuestRequest(r.Guest, name, seed, rewrite.Macs));
        foreach (var (key, value) in info.ExtraConfig)
        {
            rewrite.Vmx.Set(key, value);
        }

        var vm = new VmRef(name);
        var target = $"{context.Host}/{name}";
        var steps = new List<PlanStep>();
        var createFolder = $"Create folder {folder}";
        steps.Add(context.Step(createFolder, target, new MakeDirectory(folder), new DeleteDirectory(folder))
            with { UndoBound = OperationContext.FolderUndoBound(manifest.Disks.Sum(d => d.Capacity)) });
        foreach (var (from, to) in rewrite.Disks)
        {
            var fileName = from[(from.LastIndexOf('/') + 1)..];
            var (disk, _) = disks.FirstOrDefault(d => d.Path.FileName == fileName);
            if (disk is null)
            {
                throw context.Invalid("BackupIncomplete", $"The .vmx of backup {manifest.Id[..8]} names disk '{from}', which the backup does not hold.", manifest.Id);
            }

            var descriptor = folder.Child(to);
            var flat = descriptor.Folder.Child(Path.GetFileNameWithoutExtension(to) + "-flat.vmdk");
            steps.Add(context.Step($"Create disk {to} thin ({BackupVm.FormatBytes(disk.Capacity)})", target, new CreateDisk(descriptor, disk.Capacity), new DeleteDisk(descriptor), inside: createFolder));
            steps.Add(WriteDiskStep(disk, flat, repository, repositoryLabel, writer, target, createFolder));
        }

        if (manifest.Files.FirstOrDefault(f => f.Name.EndsWith(".nvram", StringComparison.OrdinalIgnoreCase)) is { } nvram)
        {
            var nvramPath = folder.Child(rewrite.Vmx["nvram"] ?? name + ".nvram");
            steps.Add(new PlanStep
            {
                Title = $"Write {nvramPath.FileName}",
                Target = target,
                Transport = context.Session.Files.Transport,
                Command = $"write {nvramPath} ({nvram.Size} bytes from the backup's {nvram.Name})",
                Execute = async ct2 =>
                {
                    var bytes = await repository.ReadFileAsync(nvram, ct2).ConfigureAwait(false);
                    await context.Session.Files.WriteAsync(nvramPath, new MemoryStream(bytes), bytes.Length, null, ct2).ConfigureAwait(false);
                },
                UndoCommand = $"removed with the folder {folder}",
                Undo = _ => Task.CompletedTask,
                Inside = createFolder,
            });
        }

        var notes = info.Notes.ToList();
        notes.Add($"backup {manifest.Id[..8]} of '{manifest.Header.VmName}' taken {manifest.Time:u} ({manifest.Header.Mode.ToString().ToLowerInvariant()}) from {manifest.Header.Host}, in repository {repositoryLabel}");
        notes.Add($"new BIOS UUID {VmxIdentity.ApiUuid(rewrite.BiosUuid)}, MAC(s) {string.Join(", ", rewrite.Macs)}, cloud-init instance-id {info.InstanceId}");
        var vmxPath = folder.Child(name + ".vmx");
        var finalVmx = rewrite.Vmx.ToString();
        steps.Add(context.Step($"Write {vmxPath.FileName}", target, new WriteFile(vmxPath, finalVmx), coveredBy: $"removed with the folder {folder}", inside: createFolder) with { Notes = notes.ToList() });
        steps.Add(context.Step($"Register '{name}'", target, new Register(vmxPath, vm), new Unregister(vm)));
        if (r.PowerOn)
        {
            steps.Add(context.Step($"Power on '{name}'", target, new PowerOn(vm), new PowerOff(vm)));
        }

        return (context.Plan("RestoreVm", name, steps, notes), vm);
    }

    private VmxFile ParseVmx(string text, string backupId)
    {
        try
        {
            return VmxFile.Parse(text);
        }
        catch (FormatException e)
        {
            throw new CesoException("UnreadableVmx", CesoErrorKind.InvalidState, $"The .vmx in backup {backupId[..8]} has a line Ceso cannot read ({e.Message}).", e) { Target = backupId };
        }
    }

    internal static PlanStep WriteDiskStep(SnapshotDisk disk, DatastorePath flat, BackupRepository repository, string repositoryLabel, IDiskBlockWriter writer, string target, string inside)
    {
        var command = $"write the {disk.Blocks.Count} stored block(s) of {disk.Name} from {repositoryLabel} into {flat} at their offsets ({BackupVm.FormatBytes(disk.BlockSize)} blocks; python on the host, else dd … conv=notrunc per run); zero blocks stay holes";
        async Task RunAsync(IProgress<StepStatus>? status, CancellationToken ct)
        {
            var data = (long)disk.Blocks.Count * disk.BlockSize;
            var progress = new InlineProgress<DiskIoProgress>(p => status?.Report(new StepStatus(
                (int)(p.BlocksSent * 100 / Math.Max(1, disk.Blocks.Count)),
                $"{p.BlocksSent} of {disk.Blocks.Count} block(s) written, {BackupVm.FormatBytes(p.WireBytes)} of about {BackupVm.FormatBytes(data)} sent ({writer.PathUsed})")));
            await writer.WriteAsync(flat, disk.Capacity, disk.BlockSize, Blocks(repository, disk, ct), progress, ct).ConfigureAwait(false);
        }

        return new PlanStep
        {
            Title = $"Restore disk {flat.FileName.Replace("-flat.vmdk", ".vmdk", StringComparison.Ordinal)} ({disk.Blocks.Count} block(s))",
            Target = target,
            Transport = "ssh",
            Command = command,
            Execute = ct => RunAsync(null, ct),
            ExecuteWithStatus = RunAsync,
            Ran = () => new HostCallRun("ssh", writer.PathUsed.Length == 0 ? command : $"{command} [ran: {writer.PathUsed}: {writer.PathReason}]"),
            UndoCommand = $"removed with the folder {flat.Folder}",
            Undo = _ => Task.CompletedTask,
            Inside = inside,
        };
    }

    private static async IAsyncEnumerable<(long Index, ReadOnlyMemory<byte> Data)> Blocks(BackupRepository repository, SnapshotDisk disk,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var block in repository.ReadDiskAsync(disk, ct).ConfigureAwait(false))
        {
            yield return (block.Index, block.Data!.Value);
        }
    }
}
