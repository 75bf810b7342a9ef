using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;

namespace Ceso.Engine.Operations;

/// <summary>
/// The steps that let a running VM's disks be read consistently: lock the VM against other hot copies, take a
/// snapshot (the base disks are then no longer written), and — as <see cref="StepKind.Cleanup"/> steps that run after
/// the work is finished or undone, and after Ctrl+C — remove exactly that snapshot and the lock. A failed release
/// leaves the finished work alone and warns, naming what is left. Whatever reads the base disks (a copy now, a
/// backup later) goes between <see cref="Acquire"/> and <see cref="Release"/>.
/// </summary>
/// <param name="Acquire">Lock, then snapshot: the first steps of the plan.</param>
/// <param name="Release">Remove the snapshot Ceso made, then unlock: the plan's last steps, each released only if its acquire step completed.</param>
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
    public static HotCopy For(OperationContext context, CesoVm source, DatastorePath sourceVmx, SnapshotHandle snapshot)
    {
        var src = new VmHandle(source.Name, source.Id);
        var target = $"{context.Host}/{source.Name}";
        var hotLock = sourceVmx.Folder.Child(".ceso-hot-copy.lock");
        var lockTitle = $"Lock '{source.Name}' against other hot copies";
        var snapshotTitle = $"Snapshot '{source.Name}' for a consistent copy";
        // Two hot copies of one VM must not overlap: removing one's snapshot consolidates into the base disk the
        // other is still reading. Creating a folder is atomic on VMFS and over both transports, so it is the lock.
        PlanStep[] acquire =
        [
            context.Step(lockTitle, target, t => t.MakeDirectory(hotLock), t => t.DeleteDirectory(hotLock)),
            context.Step(snapshotTitle, target, t => t.CreateSnapshot(src, snapshot), t => t.RemoveSnapshot(src, snapshot)),
        ];
        // Cleanups: they run after the copy is finished or undone, and after Ctrl+C. Should one fail, the copy stays
        // and a warning names what is left (a snapshot or the lock folder) with the command that removes it.
        PlanStep[] release =
        [
            context.Step($"Remove the snapshot Ceso made of '{source.Name}'", target, t => t.RemoveSnapshot(src, snapshot))
                with { Kind = StepKind.Cleanup, Releases = snapshotTitle },
            context.Step($"Unlock '{source.Name}'", target, t => t.DeleteDirectory(hotLock))
                with { Kind = StepKind.Cleanup, Releases = lockTitle },
        ];
        return new HotCopy(acquire, release);
    }
}
