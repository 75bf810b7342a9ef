using Ceso.Engine.Formats;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;

namespace Ceso.Engine.Operations;

/// <summary>
/// The steps that let a running VM's disks be read consistently: lock the VM against other hot copies, take a
/// snapshot (the base disks are then no longer written), and — as <see cref="StepKind.Cleanup"/> steps that run after
/// the work is finished or undone, and after Ctrl+C — remove exactly that snapshot and the lock. A failed release
/// leaves the finished work alone and warns, naming what is left. Whatever reads the base disks (a copy now, a
/// backup later) goes between <see cref="Acquire"/> and <see cref="Release"/>.
/// </summary>
/// <param name="Acquire">Lock, then snapshot: the first steps of the plan.</param>
/// <param name="Release">Remove the snapshot Ceso made, then unlock (only if the removal did not fail): the plan's last steps, each run when its acquire step started.</param>
internal sealed record HotCopy(IReadOnlyList<PlanStep> Acquire, IReadOnlyList<PlanStep> Release)
{
    /// <summary>The hot-copy steps for <paramref name="source"/>.</summary>
    /// <param name="context">The operation's context.</param>
    /// <param name="source">The running VM.</param>
    /// <param name="sourceVmx">Its .vmx (the lock is a folder next to it).</param>
    /// <param name="snapshot">
    /// The snapshot to make, named as no user snapshot is (derived from the plan's <see cref="IdentitySeed"/>): Ceso
    /// removes this one, by its id, and never anything else.
    /// </param>
    public static HotCopy For(OperationContext context, CesoVm source, DatastorePath sourceVmx, SnapshotRef snapshot)
    {
        var src = VmRef.Of(source);
        var target = $"{context.Host}/{source.Name}";
        var lockFolder = sourceVmx.Folder.Child(".ceso-hot-copy.lock");
        var lockTitle = $"Lock '{source.Name}' against other hot copies";
        var snapshotTitle = $"Snapshot '{source.Name}' for a consistent copy";
        var removeTitle = $"Remove the snapshot Ceso made of '{source.Name}'";
        // Two hot copies of one VM must not overlap: removing one's snapshot consolidates into the base disk the
        // other is still reading. Creating a folder is atomic on VMFS and over both transports, so it is the lock; the
        // lock knows whether this run made it, so a second hot copy that finds it there never removes it.
        PlanStep[] acquire =
        [
            context.Step(lockTitle, target, new TakeLock(lockFolder), new DeleteDirectory(lockFolder)),
            context.Step(snapshotTitle, target, new CreateSnapshot(src, snapshot), new RemoveSnapshot(src, snapshot)),
        ];
        // Cleanups: they run after the copy is finished or undone, and after Ctrl+C — also when their acquire step
        // failed or was cancelled (hostd may have made the snapshot all the same: it is then found by its unique name).
        // Should one fail, the copy stays and a warning names what is left with the command that removes it. The unlock
        // waits on the snapshot's removal: while hostd may still be consolidating, no other hot copy may start.
        PlanStep[] release =
        [
            context.Step(removeTitle, target, new RemoveSnapshot(src, snapshot))
                with { Kind = StepKind.Cleanup, Releases = snapshotTitle, Bound = ConsolidationBound(source) },
            context.Step($"Unlock '{source.Name}'", target, new ReleaseLock(lockFolder))
                with { Kind = StepKind.Cleanup, Releases = lockTitle, After = removeTitle, Leaves = $"the lock folder {lockFolder}" },
        ];
        return new HotCopy(acquire, release);
    }

    /// <summary>
    /// How long removing the snapshot may take: consolidating writes the delta back into the base disks, and the delta
    /// can grow to the disks' size while the copy runs. 10 minutes plus 30 s per GiB provisioned (about 34 MiB/s, a
    /// slow datastore) — a bound for a host that hangs, not a guess at the usual time; the API reports progress.
    /// </summary>
    internal static TimeSpan ConsolidationBound(CesoVm source) =>
        TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(30 * Math.Ceiling(source.Disks.Sum(d => d.CapacityBytes) / 1073741824.0));
}
