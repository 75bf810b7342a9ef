using Ceso.Engine.Backup;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Hosts.DiskIo;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;

namespace Ceso.Engine.Operations;

/// <summary>What Restore-CesoVm -InPlace is asked for.</summary>
/// <param name="Backup">The backup: its id or a unique prefix of it.</param>
/// <param name="Vm">The VM to restore over (a name or an id); null = the VM the backup is of, by name.</param>
/// <param name="PowerOn">Power it on at the end.</param>
public sealed record RestoreInPlaceRequest(string Backup, string? Vm = null, bool PowerOn = false);

/// <summary>
/// Restore-CesoVm -InPlace: a powered-off VM goes back to a backup's disks, .vmx and .nvram and keeps its identity
/// (BIOS UUID, MACs, cloud-init instance-id: what the host has now). Nothing of the VM is touched until every restored
/// disk is written beside the old one (<c>X-ceso-restore.vmdk</c>, thin) and read back to the backup's block hashes;
/// then each old disk is set aside (<c>X-ceso-old.vmdk</c>), the restored one renamed to its place, the .vmx and
/// .nvram written and the VM reloaded. A failure up to the reload undoes it all (the VM is as it was); only after the
/// reload succeeded are the old disks deleted — a cleanup, whose failure is a warning naming the file that is left.
/// </summary>
internal sealed class RestoreVmInPlace(OperationContext context, VmGuards guards)
{
    /// <summary>The suffix of a restored disk while it is written and checked.</summary>
    public const string NewSuffix = "-ceso-restore";

    /// <summary>The suffix of an old disk between the swap and its deletion.</summary>
    public const string OldSuffix = "-ceso-old";

    // What the new .vmx takes from the VM as it is now, so the VM keeps its identity whatever the backup's .vmx says.
    private static readonly string[] IdentityKeys = ["uuid.bios", "uuid.location", "vc.uuid", "displayName", "guestinfo.metadata", "guestinfo.metadata.encoding"];

    /// <summary>Plans the restore (reads only: the manifest, the VM, its .vmx and .nvram, the datastores).</summary>
    public async Task<(Plan Plan, VmRef Vm)> PlanAsync(RestoreInPlaceRequest r, BackupRepository repository, string repositoryLabel, CancellationToken ct)
    {
        var manifest = await repository.LoadSnapshotAsync(r.Backup, ct).ConfigureAwait(false);
        var backupVmxText = manifest.Header.VmxText
            ?? throw context.Invalid("BackupHasNoVmx", $"Backup {manifest.Id[..8]} of '{manifest.Header.VmName}' holds no .vmx, so there is no VM to restore.", manifest.Id);
        var vms = await context.Session.Inventory.GetVmsAsync(ct).ConfigureAwait(false);
        var wanted = r.Vm ?? manifest.Header.VmName;
        CesoVm vm;
        try
        {
            vm = VmLookup.Find(vms, wanted, "VmNotFound", "VM", context.Host);
        }
        catch (CesoException e) when (e.ErrorId == "VmNotFound")
        {
            throw new CesoException("VmNotFound", CesoErrorKind.NotFound,
                $"{e.Message} A restore in place needs the VM registered; to bring back a VM that is gone, restore it as a new one (Restore-CesoVm -AsNew NAME).", e)
            { Target = wanted, Host = context.Host };
        }

        if (vm.PowerState != CesoPowerState.PoweredOff)
        {
            throw context.Invalid("VmPoweredOn", $"'{vm.Name}' is {vm.PowerState.ToString().ToLowerInvariant()}; a restore in place replaces its disks, so it must be powered off. Stop it (Stop-CesoVm) and run the restore again.", vm.Name);
        }

        if (vm.SnapshotCount > 0)
        {
            throw context.Invalid("VmHasSnapshots", $"'{vm.Name}' has {vm.SnapshotCount} snapshot(s); replacing its base disks would break their delta chains. Remove the snapshots first, or restore as a new VM (-AsNew).", vm.Name);
        }

        guards.CheckNotProtected(vm, "restore a backup over");
        var rewrite = await VmxRewrite.ReadAsync(context, vm, ct).ConfigureAwait(false);
        var backupVmx = ParseBackupVmx(backupVmxText, manifest.Id);

        // The disks must be the same files: the backup's descriptors are where the VM's are now.
        var current = vm.Disks.Select(d => DatastorePath.Parse(d.Path)).ToList();
        var stored = manifest.Disks.Select(d => (Disk: d, Path: DatastorePath.Parse(d.Name))).ToList();
        if (current.Count != stored.Count || stored.Any(s => !current.Contains(s.Path)))
        {
            throw context.Invalid("DiskLayoutChanged",
                $"The disks of '{vm.Name}' ({Names(current)}) are not the ones in backup {manifest.Id[..8]} ({Names(stored.Select(s => s.Path))}); a restore in place only puts disks back where they were. Restore it as a new VM (-AsNew NAME) instead.", vm.Name);
        }

        foreach (var (_, path) in stored)
        {
            foreach (var extra in new[] { Suffixed(path, NewSuffix), Suffixed(path, OldSuffix) })
            {
                if (await context.ExistsAsync(extra, ct).ConfigureAwait(false))
                {
                    throw context.Invalid("RestoreLeftover", $"{extra} exists, left by an earlier restore of '{vm.Name}'; Ceso never overwrites a disk. Check it and remove it (vmkfstools -U {extra.Vmfs}), then run the restore again.", extra.ToString());
                }
            }
        }

        var stores = await context.Session.Inventory.GetDatastoresAsync(ct).ConfigureAwait(false);
        foreach (var group in stored.GroupBy(s => s.Path.Datastore))
        {
            var need = group.Sum(s => (long)s.Disk.Blocks.Count * s.Disk.BlockSize);
            if (stores.FirstOrDefault(s => s.Name == group.Key) is { FreeBytes: > 0 } store && need > store.FreeBytes - (store.CapacityBytes / 100))
            {
                throw context.Invalid("DatastoreTooSmall", $"The restored disks of '{vm.Name}' are written beside the old ones before those are removed: about {BackupVm.FormatBytes(need)}; datastore '{group.Key}' has {BackupVm.FormatBytes(store.FreeBytes)} free. Free space there, or restore as a new VM on another datastore (-AsNew NAME -Datastore …).", group.Key);
            }
        }

        var nvramFile = manifest.Files.FirstOrDefault(f => f.Name.EndsWith(".nvram", StringComparison.OrdinalIgnoreCase));
        var nvramPath = rewrite.Path.Folder.Child(rewrite.Vmx["nvram"] ?? Path.ChangeExtension(rewrite.Path.FileName, ".nvram"));
        byte[]? oldNvram = null;
        if (nvramFile is not null && await context.ExistsAsync(nvramPath, ct).ConfigureAwait(false))
        {
            await using var stream = await context.Session.Files.OpenReadAsync(nvramPath, 0, null, ct).ConfigureAwait(false);
            var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, ct).ConfigureAwait(false);
            oldNvram = buffer.ToArray();
        }

        // The backup's configuration with the VM's identity of today.
        var identity = rewrite.Vmx.Entries.Where(e => IsIdentityKey(e.Key)).ToList();
        var kept = VmxFile.Parse(backupVmx.ToString());
        kept.RemoveWhere(IsIdentityKey);
        foreach (var (key, value) in identity)
        {
            kept.Set(key, value);
        }

        var writer = DiskBlockIo.WriterFor(context.Session.Host);
        var reader = DiskBlockIo.ReaderFor(context.Session.Host);
        var handle = VmRef.Of(vm);
        var target = $"{context.Host}/{vm.Name}";
        var steps = new List<PlanStep>();
        foreach (var (disk, path) in stored)
        {
            var fresh = Suffixed(path, NewSuffix);
            var freshFlat = fresh.Folder.Child(Path.GetFileNameWithoutExtension(fresh.FileName) + "-flat.vmdk");
            var create = $"Create disk {fresh.FileName} thin ({BackupVm.FormatBytes(disk.Capacity)})";
            steps.Add(context.Step(create, target, new CreateDisk(fresh, disk.Capacity), new DeleteDisk(fresh)));
            steps.Add(RestoreVm.WriteDiskStep(disk, freshFlat, repository, repositoryLabel, writer, target, create));
            steps.Add(VerifyStep(disk, freshFlat, reader, target, create));
        }

        foreach (var (_, path) in stored)
        {
            var old = Suffixed(path, OldSuffix);
            steps.Add(context.Step($"Set aside {path.FileName} as {old.FileName}", target, new MoveDisk(path, old), new MoveDisk(old, path)));
            steps.Add(context.Step($"Put the restored {path.FileName} in its place", target, new MoveDisk(Suffixed(path, NewSuffix), path), new MoveDisk(path, Suffixed(path, NewSuffix))));
        }

        if (nvramFile is not null)
        {
            steps.Add(NvramStep(nvramFile, nvramPath, oldNvram, repository, target));
        }

        var notes = new List<string>
        {
            $"backup {manifest.Id[..8]} of '{manifest.Header.VmName}' taken {manifest.Time:u} ({manifest.Header.Mode.ToString().ToLowerInvariant()}) from {manifest.Header.Host}, in repository {repositoryLabel}",
            $"'{vm.Name}' keeps its identity (BIOS UUID {rewrite.Vmx["uuid.bios"] ?? "none"}, its MACs and cloud-init instance-id); its disks, .vmx settings{(nvramFile is null ? "" : " and .nvram")} become the backup's",
            $"the old disks stay until the reload succeeded, then are deleted: {Names(stored.Select(s => Suffixed(s.Path, OldSuffix)))}",
        };
        if (manifest.Header.VmId != vm.Id)
        {
            notes.Add($"the backup was taken of VM id {manifest.Header.VmId}; '{vm.Name}' has id {vm.Id} now (re-registered since)");
        }

        // The new configuration: VmxRewrite writes it and reloads the VM; its undo writes the file of today back.
        rewrite.Vmx.RemoveWhere(_ => true);
        foreach (var (key, value) in kept.Entries)
        {
            rewrite.Vmx.Set(key, value);
        }

        var reloadTitle = $"Write {rewrite.Path.FileName} from the backup (identity kept) and reload '{vm.Name}'";
        steps.Add(rewrite.Step(reloadTitle, target) with { Notes = notes });
        if (r.PowerOn)
        {
            steps.Add(context.Step($"Power on '{vm.Name}'", target, new PowerOn(handle), new PowerOff(handle)));
        }

        // Only once the VM runs on the restored disks: the old ones go. Never undone; a failure is a warning.
        foreach (var (_, path) in stored)
        {
            var old = Suffixed(path, OldSuffix);
            var delete = context.Step($"Delete the old {path.FileName} ({old.FileName})", target, new IfCompleted(reloadTitle, new DeleteDisk(old)));
            steps.Add(delete with
            {
                Kind = StepKind.Cleanup,
                Command = $"{delete.Command} — only once the restored disks are in place and '{vm.Name}' reloaded; otherwise nothing",
                Leaves = $"the old disk {old} (remove it with vmkfstools -U {old.Vmfs})",
            });
        }

        return (context.Plan("RestoreVmInPlace", vm.Name, steps, notes), handle);
    }

    private static bool IsIdentityKey(string key) =>
        IdentityKeys.Contains(key, StringComparer.OrdinalIgnoreCase) ||
        (key.StartsWith("ethernet", StringComparison.OrdinalIgnoreCase) &&
         (key.EndsWith(".address", StringComparison.OrdinalIgnoreCase) || key.EndsWith(".generatedAddress", StringComparison.OrdinalIgnoreCase) ||
          key.EndsWith(".addressType", StringComparison.OrdinalIgnoreCase) || key.EndsWith(".generatedAddressOffset", StringComparison.OrdinalIgnoreCase)));

    /// <summary>The disk <c>[ds] vm/X.vmdk</c> as <c>[ds] vm/X{suffix}.vmdk</c>.</summary>
    internal static DatastorePath Suffixed(DatastorePath descriptor, string suffix) =>
        descriptor.Folder.Child(Path.GetFileNameWithoutExtension(descriptor.FileName) + suffix + ".vmdk");

    private static string Names(IEnumerable<DatastorePath> paths) => string.Join(", ", paths.Select(p => p.ToString()));

    private VmxFile ParseBackupVmx(string text, string backupId)
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

    /// <summary>Reads the written disk back on the host and compares every block's hash with the backup's.</summary>
    private static PlanStep VerifyStep(SnapshotDisk disk, DatastorePath flat, IDiskBlockReader reader, string target, string inside)
    {
        var expected = disk.Blocks.ToDictionary(b => b.Index, b => b.Hash);
        var known = expected.Values.ToHashSet();
        async Task RunAsync(IProgress<StepStatus>? status, CancellationToken ct)
        {
            var seen = 0L;
            var progress = new InlineProgress<DiskIoProgress>(p => status?.Report(new StepStatus(
                (int)(p.BytesScanned * 100 / Math.Max(1, disk.Capacity)), $"{BackupVm.FormatBytes(p.BytesScanned)} of {BackupVm.FormatBytes(disk.Capacity)} checked ({reader.PathUsed})")));
            await foreach (var block in reader.ReadAsync(flat, disk.Capacity, disk.BlockSize, known, progress, ct).ConfigureAwait(false))
            {
                if (!expected.TryGetValue(block.Index, out var hash) || hash != block.Hash)
                {
                    throw new CesoException("RestoreVerifyFailed", CesoErrorKind.HostError,
                        $"Block {block.Index} of the restored {flat} does not match the backup ({(expected.ContainsKey(block.Index) ? "different data" : "data where the backup has zeros")}); the VM was not changed and the restored disk is removed. Run Test-CesoBackup -ReadData, and check the datastore.")
                    { Target = flat.ToString() };
                }

                seen++;
            }

            if (seen != expected.Count)
            {
                throw new CesoException("RestoreVerifyFailed", CesoErrorKind.HostError,
                    $"The restored {flat} has {seen} non-zero block(s), the backup {expected.Count}; the VM was not changed and the restored disk is removed. Check the datastore and run the restore again.")
                { Target = flat.ToString() };
            }
        }

        return new PlanStep
        {
            Title = $"Check {flat.FileName} against the backup ({disk.Blocks.Count} block hash(es))",
            Target = target,
            Transport = "ssh",
            Command = $"read {flat} back on the host and compare the SHA-256 of each of its {disk.Blocks.Count} non-zero block(s) with the backup's",
            Execute = ct => RunAsync(null, ct),
            ExecuteWithStatus = RunAsync,
            UndoCommand = "nothing to undo (a read)",
            Undo = _ => Task.CompletedTask,
            Inside = inside,
        };
    }

    private PlanStep NvramStep(SnapshotFile nvram, DatastorePath path, byte[]? old, BackupRepository repository, string target) => new()
    {
        Title = $"Write {path.FileName} from the backup",
        Target = target,
        Transport = context.Session.Files.Transport,
        Command = $"write {path} ({nvram.Size} bytes from the backup's {nvram.Name})",
        Execute = async ct =>
        {
            var bytes = await repository.ReadFileAsync(nvram, ct).ConfigureAwait(false);
            await context.Session.Files.WriteAsync(path, new MemoryStream(bytes), bytes.Length, null, ct).ConfigureAwait(false);
        },
        UndoCommand = old is null ? $"delete {path} (it did not exist)" : $"write the {old.Length} bytes {path.FileName} had back",
        Undo = async ct =>
        {
            if (old is null)
            {
                await context.Session.Files.DeleteAsync(path, ct).ConfigureAwait(false);
            }
            else
            {
                await context.Session.Files.WriteAsync(path, new MemoryStream(old), old.Length, null, ct).ConfigureAwait(false);
            }
        },
    };
}
