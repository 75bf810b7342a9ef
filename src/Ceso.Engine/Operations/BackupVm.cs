using System.Globalization;
using Ceso.Engine.Backup;
using Ceso.Engine.Formats;
using Ceso.Engine.Formats.Vmdk;
using Ceso.Engine.Hosts;
using Ceso.Engine.Hosts.DiskIo;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;

namespace Ceso.Engine.Operations;

/// <summary>What Backup-CesoVm is asked for.</summary>
/// <param name="Vm">The VM: a name or an id.</param>
/// <param name="Hot">Back up a running VM through a snapshot Ceso makes and removes.</param>
/// <param name="Tags">Tags recorded with the backup.</param>
/// <param name="AllowSnapshots">Back up a VM that has snapshots: its current state (the top of each disk's snapshot chain)
/// through a consolidated thin copy made beside each disk and deleted afterwards; its snapshots are not backed up.</param>
public sealed record BackupVmRequest(string Vm, bool Hot = false, IReadOnlyList<string>? Tags = null, bool AllowSnapshots = false);

/// <summary>What a backup plan produced once it ran: the snapshot in the repository and how each disk was read.</summary>
public sealed class BackupRun
{
    /// <summary>The backup, once the manifest step ran; null before and after a failure.</summary>
    public BackupSnapshot? Snapshot { get; internal set; }

    /// <summary>The read path of each disk (<c>host-helper</c> or <c>plain-stream</c>) with its reason, by disk path.</summary>
    public Dictionary<string, string> ReadPaths { get; } = [];

    /// <summary>Files that could not be read and are not in the backup (a running VM's .nvram), with why.</summary>
    public List<string> Skipped { get; } = [];

    /// <summary>Totals of the whole backup.</summary>
    public BackupStatistics? Statistics { get; internal set; }
}

/// <summary>
/// Backup-CesoVm: a VM's disks, .vmx and .nvram into a repository. Cold for a powered-off VM (its flat disks are read
/// as they are); hot for a running one through a <see cref="HotCopy"/> (lock, snapshot, read the base disks, remove
/// exactly the snapshot Ceso made, unlock, check no delta is left). The repository is opened for a backup first (a
/// shared lock), so a repository that cannot take the backup fails before the host is touched; the manifest is
/// written last, so a backup that fails half-way leaves no snapshot in the repository, only data the next one reuses.
/// </summary>
internal sealed class BackupVm(OperationContext context, VmGuards guards)
{
    // What undoes the steps that only add data to the repository: the abandoned backup leaves no snapshot.
    private const string Abandoned = "nothing to undo: the backup is abandoned, so no snapshot refers to what it stored (the next backup reuses it)";

    /// <summary>Plans the backup of one VM into <paramref name="repository"/> (reads only).</summary>
    public async Task<(Plan Plan, BackupRun Run)> PlanAsync(BackupVmRequest r, BackupRepository repository, string repositoryLabel, CancellationToken ct)
    {
        var vms = await context.Session.Inventory.GetVmsAsync(ct).ConfigureAwait(false);
        var source = VmLookup.Find(vms, r.Vm, "VmNotFound", "VM", context.Host);
        if (!r.Hot && source.PowerState == CesoPowerState.PoweredOn)
        {
            throw context.Invalid("VmPoweredOn", $"'{source.Name}' is powered on; a cold backup needs it powered off. Stop it, or add -Hot to back it up running through a temporary snapshot.", source.Name);
        }

        var hot = r.Hot && source.PowerState == CesoPowerState.PoweredOn;
        var chained = source.SnapshotCount > 0;
        if (chained && !r.AllowSnapshots)
        {
            throw context.Invalid("VmHasSnapshots", $"'{source.Name}' has {source.SnapshotCount} snapshot(s): its disks' current state is spread over delta files. Add -AllowSnapshots to back up that current state through a consolidated thin copy of each disk made beside it on the datastore (it needs room for the copy and is deleted afterwards; the snapshots themselves are not backed up), or remove the snapshots first.", source.Name);
        }

        if (hot && source.Disks.FirstOrDefault(d => d.Mode?.StartsWith("independent", StringComparison.Ordinal) == true) is { } independent)
        {
            throw context.Invalid("IndependentDisk", $"'{source.Name}' has an independent disk ({independent.Path}); snapshots do not cover it, so a hot backup would not be consistent and Ceso refuses it. Back the VM up powered off (a cold backup reads independent disks as they are), or change the disk's mode to dependent.", source.Name);
        }

        if (hot)
        {
            guards.CheckNotProtected(source, "take a backup snapshot of");
        }

        var vmxPath = context.VmxPathOf(source);
        var vmxText = await context.ReadTextAsync(vmxPath, ct).ConfigureAwait(false);
        var vmx = context.ParseVmx(vmxText, vmxPath);
        var disks = new List<(CesoVmDisk Disk, DatastorePath Flat, long Capacity)>();
        var copies = new List<(DatastorePath Top, DatastorePath Copy)>();
        foreach (var disk in source.Disks)
        {
            var descriptorPath = DatastorePath.Parse(disk.Path);
            var isDelta = chained && disk.Mode?.StartsWith("independent", StringComparison.Ordinal) != true;
            if (isDelta)
            {
                // The top of the chain is read through a consolidated thin copy beside it: vmkfstools -i (or
                // CopyVirtualDisk_Task) of a delta writes the disk as the VM sees it, as ghettoVCB does for such VMs.
                var copy = RestoreVmInPlace.Suffixed(descriptorPath, "-ceso-backup");
                if (await context.ExistsAsync(copy, ct).ConfigureAwait(false))
                {
                    throw context.Invalid("BackupLeftover", $"{copy} exists, left by an earlier backup of '{source.Name}'; Ceso never overwrites a disk. Remove it (vmkfstools -U {copy.Vmfs}) and run the backup again.", copy.ToString());
                }

                copies.Add((descriptorPath, copy));
                disks.Add((disk, copy.Folder.Child(Path.GetFileNameWithoutExtension(copy.FileName) + "-flat.vmdk"), disk.CapacityBytes));
                continue;
            }

            var descriptor = await ReadDescriptorAsync(descriptorPath, ct).ConfigureAwait(false);
            disks.Add((disk, descriptor.FlatFile(descriptorPath), descriptor.CapacityBytes));
        }

        var nvram = vmxPath.Folder.Child(vmx["nvram"] ?? Path.ChangeExtension(vmxPath.FileName, ".nvram"));
        var hasNvram = await context.ExistsAsync(nvram, ct).ConfigureAwait(false);

        var target = $"{context.Host}/{source.Name}";
        var tags = r.Tags ?? [];
        var header = new SnapshotHeader(source.Name, source.Id, context.Host, hot ? BackupMode.Hot : BackupMode.Cold, tags, vmxText);
        var run = new BackupRun();
        var reader = DiskBlockIo.ReaderFor(context.Session.Host);
        BackupWriter? writer = null;
        var via = context.Session.Host.Ssh is not null ? "ssh" : "soap";
        var steps = new List<PlanStep>();
        var open = $"Open repository {repositoryLabel} for a backup of '{source.Name}'";
        steps.Add(Local(open, target,
            $"lock {repository.Backend.Location} (shared) and start backup of {source.Name} ({header.Mode.ToString().ToLowerInvariant()}{(tags.Count == 0 ? "" : ", tags " + string.Join(",", tags))})",
            async ct2 => writer = await repository.BeginBackupAsync(header, ct2).ConfigureAwait(false),
            "abandon the backup: no snapshot is written, the data already stored is reused by the next backup, the lock is released",
            async _ =>
            {
                if (writer is not null)
                {
                    await writer.DisposeAsync().ConfigureAwait(false);
                    writer = null;
                }
            }));

        var snapshotName = "ceso-backup-" + IdentitySeed.For(context.Home, "BackupVm", context.Host, source.Id, vmxText, repository.Id).Hex("snapshot", 4);
        var hotCopy = hot ? HotCopy.For(context, source, vmxPath, new SnapshotRef(snapshotName)) : null;
        steps.AddRange(hotCopy?.Acquire ?? []);
        var releaseCopies = new List<PlanStep>();
        foreach (var (top, copy) in copies)
        {
            var title = $"Make a consolidated copy of {top.FileName} ({copy.FileName}, thin)";
            steps.Add(context.Step(title, target, new CopyDisk(top, copy), new DeleteDisk(copy)));
            releaseCopies.Add(context.Step($"Delete the copy {copy.FileName}", target, new DeleteDisk(copy))
                with { Kind = StepKind.Cleanup, Releases = title, Leaves = $"the disk copy {copy} (remove it with vmkfstools -U {copy.Vmfs})" });
        }

        steps.Add(Local($"Back up {vmxPath.FileName}{(hasNvram ? " and " + nvram.FileName : "")}", target,
            $"store {vmxPath}{(hasNvram ? ", " + nvram : "")} in {repository.Backend.Location}",
            async ct2 =>
            {
                await writer!.AddFileAsync(vmxPath.FileName, System.Text.Encoding.UTF8.GetBytes(vmxText), ct2).ConfigureAwait(false);
                if (hasNvram)
                {
                    byte[]? bytes = null;
                    try
                    {
                        bytes = await ReadSmallFileAsync(nvram, ct2).ConfigureAwait(false);
                    }
                    catch (Exception e) when (hot && e is CesoException or IOException)
                    {
                        // A running VM may hold its .nvram open; the disks matter, and ESXi makes a new .nvram when
                        // a restored VM first powers on (its UEFI boot entries are found again).
                        run.Skipped.Add($"{nvram} (the running VM holds it: {e.Message})");
                    }

                    if (bytes is not null)
                    {
                        await writer.AddFileAsync(nvram.FileName, bytes, ct2).ConfigureAwait(false);
                    }
                }
            }) with { Transport = via, UndoCommand = Abandoned, Undo = _ => Task.CompletedTask, Inside = open });

        foreach (var (disk, flat, capacity) in disks)
        {
            steps.Add(DiskStep(disk, flat, capacity, source.Id, repository, reader, () => writer!, run, target, via) with
            {
                UndoCommand = Abandoned,
                Undo = _ => Task.CompletedTask,
                Inside = open,
            });
        }

        steps.Add(Local($"Write the backup of '{source.Name}' to repository {repositoryLabel}", target,
            $"write the snapshot manifest of {source.Name} to {repository.Backend.Location}/snapshots (last: a backup without it does not exist)",
            async ct2 =>
            {
                run.Statistics = writer!.Statistics;
                run.Snapshot = await writer.CommitAsync(ct2).ConfigureAwait(false);
                await writer.DisposeAsync().ConfigureAwait(false);
                writer = null;
            }));
        steps.AddRange(releaseCopies);
        steps.AddRange(hotCopy?.Release ?? []);
        if (hot)
        {
            steps.Add(NoDeltaLeft(source, target, via));
        }

        var notes = new List<string>
        {
            $"repository {repositoryLabel}: {FormatBytes(repository.BlockSize)} blocks, {(repository.Encrypted ? "encrypted (AES-256-GCM)" : "NOT encrypted")}",
        };
        if (hot)
        {
            notes.Add($"the snapshot '{snapshotName}' is made for this backup and removed by its id afterwards; no other snapshot is touched");
        }

        if (copies.Count > 0)
        {
            notes.Add($"'{source.Name}' has {source.SnapshotCount} snapshot(s): its current state is backed up from a consolidated thin copy of each disk ({string.Join(", ", copies.Select(c => c.Copy.FileName))}), deleted afterwards; the snapshots themselves are not in the backup");
        }

        return (context.Plan("BackupVm", source.Name, steps, notes), run);
    }

    private static PlanStep DiskStep(CesoVmDisk disk, DatastorePath flat, long capacity, string vmId, BackupRepository repository, IDiskBlockReader reader,
        Func<BackupWriter> writer, BackupRun run, string target, string via)
    {
        var blockSize = repository.BlockSize;
        var command = $"read {flat} in {FormatBytes(blockSize)} blocks: python on the host skips zero blocks and sends only blocks {repository.Backend.Location} lacks (else a plain stream of the file)";
        async Task RunAsync(IProgress<StepStatus>? status, CancellationToken ct)
        {
            var known = await repository.KnownHashesAsync(vmId, ct).ConfigureAwait(false);
            var w = writer();
            var d = w.BeginDisk(disk.Path, capacity);
            var progress = new InlineProgress<DiskIoProgress>(p =>
            {
                status?.Report(new StepStatus((int)(p.BytesScanned * 100 / Math.Max(1, capacity)),
                    $"{FormatBytes(p.BytesScanned)} of {FormatBytes(capacity)} read, {FormatBytes(p.WireBytes)} sent, {p.BlocksSent} new block(s), {p.KnownBlocks} known, {p.ZeroBlocks} zero ({reader.PathUsed})"));
            });
            await foreach (var block in reader.ReadAsync(flat, capacity, blockSize, known, progress, ct).ConfigureAwait(false))
            {
                await d.AddBlockAsync(block, ct).ConfigureAwait(false);
            }

            await d.CompleteAsync(ct).ConfigureAwait(false);
            run.ReadPaths[disk.Path] = $"{reader.PathUsed} ({reader.PathReason})";
        }

        return new PlanStep
        {
            Title = $"Back up disk {DatastorePath.Parse(disk.Path).FileName} ({FormatBytes(capacity)})",
            Target = target,
            Transport = via,
            Command = command,
            Execute = ct => RunAsync(null, ct),
            ExecuteWithStatus = RunAsync,
            Ran = () => new HostCallRun(via, reader.PathUsed.Length == 0 ? command : $"{command} [ran: {reader.PathUsed}: {reader.PathReason}]"),
        };
    }

    // After the snapshot's removal the VM's disks must be its base disks again: a delta left means hostd did not
    // consolidate, and the next backup would refuse the VM. A cleanup: its failure warns and names the delta.
    private PlanStep NoDeltaLeft(CesoVm source, string target, string via) => new()
    {
        Title = $"Check that no snapshot delta of '{source.Name}' is left",
        Target = target,
        Transport = via,
        Command = $"read the disks of {source.Name} (vmid {source.Id}) and check each is its base disk again",
        Kind = StepKind.Cleanup,
        Execute = async ct =>
        {
            var now = await VmLookup.RefreshAsync(context.Session.Inventory, source.Id, ct).ConfigureAwait(false);
            var deltas = now?.Disks.Where(d => !source.Disks.Any(b => b.Path == d.Path)).Select(d => d.Path).ToList() ?? [];
            if (now is not null && (deltas.Count > 0 || now.SnapshotCount > source.SnapshotCount))
            {
                throw new CesoException("SnapshotDeltaLeft", CesoErrorKind.HostError,
                    $"'{source.Name}' still runs on {string.Join(", ", deltas.DefaultIfEmpty("a snapshot"))} after Ceso removed its backup snapshot; consolidate it (vim-cmd vmsvc/snapshot.get {source.Id}, then the host client's Consolidate).")
                { Host = context.Host, Target = source.Name };
            }
        },
    };

    private async Task<VmdkDescriptor> ReadDescriptorAsync(DatastorePath path, CancellationToken ct)
    {
        var text = await context.ReadTextAsync(path, ct).ConfigureAwait(false);
        VmdkDescriptor d;
        try
        {
            d = VmdkDescriptor.Parse(text);
        }
        catch (FormatException e)
        {
            throw new CesoException("UnreadableDiskDescriptor", CesoErrorKind.HostError, $"{path} on {context.Host} is not a disk descriptor Ceso can read ({e.Message}).", e)
            { Target = path.ToString(), Host = context.Host };
        }

        if (!d.IsSingleFlat)
        {
            throw context.Invalid("UnsupportedDiskFormat", $"{path} is a '{d.CreateType}' disk with {d.Extents.Count} extent(s){(d.ParentFileName is null ? "" : " on a parent (a snapshot delta)")}; Ceso backs up flat VMFS disks (thin or thick) only.", path.ToString());
        }

        return d;
    }

    private async Task<byte[]> ReadSmallFileAsync(DatastorePath path, CancellationToken ct)
    {
        await using var s = await context.Session.Files.OpenReadAsync(path, 0, null, ct).ConfigureAwait(false);
        using var m = new MemoryStream();
        await s.CopyToAsync(m, ct).ConfigureAwait(false);
        return m.ToArray();
    }

    private static PlanStep Local(string title, string target, string command, Func<CancellationToken, Task> execute, string? undoCommand = null, Func<CancellationToken, Task>? undo = null) =>
        new()
        {
            Title = title,
            Target = target,
            Transport = "local",
            Command = command,
            Execute = execute,
            UndoCommand = undoCommand,
            Undo = undo,
        };

    /// <summary>Bytes as people read them (1.5 GiB, 300 MiB, 4 KiB).</summary>
    internal static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / 1073741824.0).ToString("0.##", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / 1048576.0).ToString("0.#", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };
}
