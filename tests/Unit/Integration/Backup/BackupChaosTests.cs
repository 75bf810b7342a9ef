using Ceso.Engine;
using Ceso.Engine.Backup;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;

namespace Ceso.Tests.Integration.Backup;

/// <summary>
/// Backups and restores that fail half-way: each leaves no snapshot on the VM, no orphan VM or folder, no snapshot in
/// the repository, and a repository that passes a check with ReadData; the next backup works.
/// </summary>
[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class BackupChaosTests(TestBed bed) : IDisposable
{
    private readonly string _repoDir = Path.Combine(Path.GetTempPath(), "ceso-bkc-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        bed.ClearFaults();
        if (Directory.Exists(_repoDir))
        {
            Directory.Delete(_repoDir, true);
        }
    }

    private string LocalDir => bed.Info.Datastores[0].LocalDir;

    private async Task<(CesoSession Session, VmOperations Vms, PlanExecutor Executor, OpenedRepository Repo)> SetUpAsync(Transport transport, string vm, bool powerOn = false)
    {
        var (session, vms, executor) = await bed.OpenOperationsAsync(transport);
        await executor.ExecuteAsync((await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm01", Name = vm })).Plan);
        await using (var f = new FileStream(Path.Combine(LocalDir, vm, vm + "-flat.vmdk"), FileMode.Open, FileAccess.Write))
        {
            var data = new byte[8 << 20];
            new Random(3).NextBytes(data);
            f.Position = 1 << 20;
            await f.WriteAsync(data);
        }

        if (powerOn)
        {
            await executor.ExecuteAsync((await vms.PlanPowerAsync(vm, PowerAction.Start)).Plan);
        }

        return (session, vms, executor, await BackupOperations.CreateRepositoryAsync(bed.Home, null, _repoDir, "pw", null, null));
    }

    private static async Task RemoveAsync(VmOperations vms, PlanExecutor executor, string name)
    {
        if (await vms.RefreshAsync(name) is not { } vm)
        {
            return;
        }

        if (vm.PowerState == CesoPowerState.PoweredOn)
        {
            await executor.ExecuteAsync((await vms.PlanPowerAsync(name, PowerAction.Kill)).Plan);
        }

        await executor.ExecuteAsync((await vms.PlanRemoveAsync(name, keepFiles: false)).Plan);
    }

    private static async Task AssertRepositoryHealthyAsync(OpenedRepository repo, int backups)
    {
        var reopened = await BackupRepository.OpenAsync(repo.Repository.Backend, "pw");
        Assert.Equal(backups, (await reopened.ListSnapshotsAsync()).Count);
        var check = await reopened.CheckAsync(new CheckOptions { ReadData = true });
        Assert.True(check.Ok, string.Join("; ", check.Problems.Select(p => p.Message)));
    }

    [Fact]
    public async Task A_failing_snapshot_leaves_no_backup_no_snapshot_and_no_lock_and_the_next_backup_works()
    {
        const string name = "bkc-snap";
        var (session, vms, executor, repo) = await SetUpAsync(Transport.Ssh, name, powerOn: true);
        await using var _ = session;
        try
        {
            bed.Fault("snapshotFailure=on");
            var (plan, run) = await BackupOperations.PlanBackupAsync(session, bed.Home, repo, new BackupVmRequest(name, Hot: true));
            await Assert.ThrowsAsync<PlanFailedException>(() => executor.ExecuteAsync(plan));
            bed.Fault("snapshotFailure=off");

            Assert.Null(run.Snapshot);
            Assert.Equal(0, (await vms.RefreshAsync(name))!.SnapshotCount);
            Assert.False(Directory.Exists(Path.Combine(LocalDir, name, ".ceso-hot-copy.lock")));
            await AssertRepositoryHealthyAsync(repo, 0);

            var (again, run2) = await BackupOperations.PlanBackupAsync(session, bed.Home, repo, new BackupVmRequest(name, Hot: true));
            await executor.ExecuteAsync(again);
            Assert.NotNull(run2.Snapshot);
            await AssertRepositoryHealthyAsync(repo, 1);
        }
        finally
        {
            await RemoveAsync(vms, executor, name);
        }
    }

    [Fact]
    public async Task An_ssh_connection_dropped_mid_stream_fails_the_backup_cleanly_and_the_next_one_reuses_what_arrived()
    {
        const string name = "bkc-drop";
        var (session, vms, executor, repo) = await SetUpAsync(Transport.Ssh, name);
        await using var _ = session;
        try
        {
            bed.Fault("dropSshAfterBytes=3000000");
            var (plan, run) = await BackupOperations.PlanBackupAsync(session, bed.Home, repo, new BackupVmRequest(name));
            var e = await Assert.ThrowsAsync<PlanFailedException>(() => executor.ExecuteAsync(plan));
            bed.Fault("dropSshAfterBytes=0");
            Assert.Contains("Back up disk", e.Message);
            Assert.Null(run.Snapshot);
            await AssertRepositoryHealthyAsync(repo, 0);

            await using var fresh = await bed.ConnectAsync(Transport.Ssh);
            var (again, run2) = await BackupOperations.PlanBackupAsync(fresh, bed.Home, repo, new BackupVmRequest(name));
            await executor.ExecuteAsync(again);
            Assert.NotNull(run2.Snapshot);
            await AssertRepositoryHealthyAsync(repo, 1);
        }
        finally
        {
            await RemoveAsync(vms, executor, name);
        }
    }

    [Fact]
    public async Task A_full_datastore_during_a_restore_leaves_no_vm_and_no_folder()
    {
        const string name = "bkc-full";
        const string restored = "bkc-full-r";
        var (session, vms, executor, repo) = await SetUpAsync(Transport.Ssh, name);
        await using var _ = session;
        try
        {
            var (plan, run) = await BackupOperations.PlanBackupAsync(session, bed.Home, repo, new BackupVmRequest(name));
            await executor.ExecuteAsync(plan);
            var (restore, _) = await BackupOperations.PlanRestoreAsync(session, bed.Home, repo, new RestoreVmRequest(run.Snapshot!.ShortId, restored));
            bed.Fault("datastoreFull=datastore1");
            var e = await Assert.ThrowsAsync<PlanFailedException>(() => executor.ExecuteAsync(restore));
            bed.Fault("datastoreFull=off");

            Assert.Contains("Undone", e.Message);
            Assert.Null(await vms.RefreshAsync(restored));
            Assert.False(Directory.Exists(Path.Combine(LocalDir, restored)));
            await AssertRepositoryHealthyAsync(repo, 1);
        }
        finally
        {
            bed.Fault("datastoreFull=off");
            await RemoveAsync(vms, executor, restored);
            await RemoveAsync(vms, executor, name);
        }
    }

    [Fact]
    public async Task Two_backups_into_one_repository_at_once_both_succeed_and_a_wrong_password_touches_nothing()
    {
        var (session, vms, executor, repo) = await SetUpAsync(Transport.Ssh, "bkc-a");
        await using var _ = session;
        try
        {
            await executor.ExecuteAsync((await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm01", Name = "bkc-b" })).Plan);
            var other = await BackupOperations.OpenAsync(bed.Home, _repoDir, "pw");
            await using var session2 = await bed.ConnectAsync(Transport.Ssh);
            var (planA, runA) = await BackupOperations.PlanBackupAsync(session, bed.Home, repo, new BackupVmRequest("bkc-a"));
            var (planB, runB) = await BackupOperations.PlanBackupAsync(session2, bed.Home, other, new BackupVmRequest("bkc-b"));
            await Task.WhenAll(executor.ExecuteAsync(planA), executor.ExecuteAsync(planB));
            Assert.NotNull(runA.Snapshot);
            Assert.NotNull(runB.Snapshot);
            await AssertRepositoryHealthyAsync(repo, 2);

            var files = Directory.GetFiles(_repoDir, "*", SearchOption.AllDirectories).Select(f => (f, new FileInfo(f).Length)).ToList();
            var wrong = await Assert.ThrowsAsync<CesoException>(() => BackupOperations.OpenAsync(bed.Home, _repoDir, "not it"));
            Assert.Equal("RepositoryPasswordWrong", wrong.ErrorId);
            Assert.Equal(files, Directory.GetFiles(_repoDir, "*", SearchOption.AllDirectories).Select(f => (f, new FileInfo(f).Length)).ToList());
        }
        finally
        {
            await RemoveAsync(vms, executor, "bkc-b");
            await RemoveAsync(vms, executor, "bkc-a");
        }
    }
}
