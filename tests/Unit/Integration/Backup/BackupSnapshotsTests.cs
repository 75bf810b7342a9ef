using System.Text;
using Ceso.Engine;
using Ceso.Engine.Hosts;
using Ceso.Engine.Operations;
using Ceso.Engine.Shell;
using Ceso.Tests.Integration;

namespace Ceso.Tests.Integration.Backup;

/// <summary>Backup-CesoVm -AllowSnapshots: a VM with snapshots of its own is backed up as it is now, cold and hot.</summary>
[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class BackupSnapshotsTests(TestBed bed) : IDisposable
{
    private const int MiB = 1 << 20;
    private readonly string _repoDir = Path.Combine(Path.GetTempPath(), "ceso-bk-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_repoDir))
        {
            Directory.Delete(_repoDir, true);
        }
    }

    private static bool Same(byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b);

    private string Folder(string vm) => Path.Combine(bed.Info.Datastores[0].LocalDir, vm);

    [Fact]
    public async Task A_vm_with_a_snapshot_of_its_own_is_refused_unless_allowed_then_backed_up_as_it_is_now_cold_and_hot()
    {
        var (session, vms, executor) = await bed.OpenOperationsAsync(Transport.Ssh);
        await using var _ = session;
        const string name = "bk-snaps";
        const string restored = "bk-snaps-r";
        try
        {
            await executor.ExecuteAsync((await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm01", Name = name })).Plan);
            var flat = Path.Combine(Folder(name), name + "-flat.vmdk");
            var data = new byte[3 * MiB];
            new Random(3).NextBytes(data);
            await using (var f = new FileStream(flat, FileMode.Open, FileAccess.Write))
            {
                f.Position = 2 * MiB;
                await f.WriteAsync(data);
            }

            // The user's own snapshot, then the guest writes after it (into the delta).
            await executor.ExecuteAsync((await vms.PlanPowerAsync(name, PowerAction.Start)).Plan);
            var id = (await vms.RefreshAsync(name))!.Id!;
            (await session.Ssh!.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.create", id, "users-own", "keep me", "0", "0"))).EnsureSuccess("bed");
            const long at = 20L * MiB + 123;
            bed.GuestWrite(name, at, "written after the user's snapshot");
            await executor.ExecuteAsync((await vms.PlanPowerAsync(name, PowerAction.Kill)).Plan);
            var expected = await File.ReadAllBytesAsync(flat); // the base, which the snapshot froze …
            Encoding.ASCII.GetBytes("written after the user's snapshot").CopyTo(expected, at); // … and the write in the delta

            var repo = await BackupOperations.CreateRepositoryAsync(bed.Home, null, _repoDir, null, null, null);
            var refused = await Assert.ThrowsAsync<CesoException>(() => BackupOperations.PlanBackupAsync(session, bed.Home, repo, new BackupVmRequest(name)));
            Assert.Equal("VmHasSnapshots", refused.ErrorId);
            Assert.Contains("-AllowSnapshots", refused.Message, StringComparison.Ordinal);

            var (cold, coldRun) = await BackupOperations.PlanBackupAsync(session, bed.Home, repo, new BackupVmRequest(name, AllowSnapshots: true));
            Assert.Contains(cold.Steps, s => s.Title.StartsWith("Make a consolidated copy", StringComparison.Ordinal));
            await executor.ExecuteAsync(cold);
            Assert.Empty(Directory.EnumerateFiles(Folder(name), "*ceso-backup*"));
            Assert.Equal(1, (await vms.RefreshAsync(name))!.SnapshotCount); // the user's snapshot stays

            var (restore, _) = await BackupOperations.PlanRestoreAsync(session, bed.Home, repo, new RestoreVmRequest(coldRun.Snapshot!.Id, restored));
            await executor.ExecuteAsync(restore);
            var restoredBytes = await File.ReadAllBytesAsync(Path.Combine(Folder(restored), restored + "-flat.vmdk"));
            Assert.True(Same(expected, restoredBytes), "the restored disk is not the VM's current state");
            Assert.Equal(0, (await vms.RefreshAsync(restored))!.SnapshotCount);

            // Hot: Ceso's own snapshot freezes the chain, the copy is made of it, and only Ceso's snapshot goes.
            await executor.ExecuteAsync((await vms.PlanPowerAsync(name, PowerAction.Start)).Plan);
            var (hot, hotRun) = await BackupOperations.PlanBackupAsync(session, bed.Home, repo, new BackupVmRequest(name, Hot: true, AllowSnapshots: true));
            var result = await executor.ExecuteAsync(hot);
            Assert.Empty(result.Warnings);
            Assert.Empty(Directory.EnumerateFiles(Folder(name), "*ceso-backup*"));
            Assert.Equal(1, (await vms.RefreshAsync(name))!.SnapshotCount);
            var backedUp = new byte[expected.Length];
            await foreach (var block in repo.Repository.ReadDiskAsync((await repo.Repository.LoadSnapshotAsync(hotRun.Snapshot!.Id)).Disks[0]))
            {
                block.Data!.Value.Span.CopyTo(backedUp.AsSpan((int)(block.Index * repo.Repository.BlockSize)));
            }

            Assert.True(Same(expected, backedUp), "the hot backup is not the VM's state as of Ceso's snapshot");
        }
        finally
        {
            foreach (var vm in new[] { restored, name })
            {
                if (await vms.RefreshAsync(vm) is { } found)
                {
                    if (found.PowerState == Ceso.Engine.Model.CesoPowerState.PoweredOn)
                    {
                        await executor.ExecuteAsync((await vms.PlanPowerAsync(vm, PowerAction.Kill)).Plan);
                    }

                    await executor.ExecuteAsync((await vms.PlanRemoveAsync(vm, keepFiles: false)).Plan);
                }
            }
        }
    }
}
