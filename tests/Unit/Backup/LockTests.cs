using Ceso.Engine.Backup;

namespace Ceso.Tests.Backup;

public sealed class LockTests : IDisposable
{
    private readonly TempRepo _repo = new();

    public void Dispose() => _repo.Dispose();

    private static LockInfo Foreign(bool exclusive, DateTimeOffset time) => new(time, exclusive, "other-host", "alice", 4242);

    [Fact(Timeout = 60_000)]
    public async Task A_live_exclusive_lock_of_another_client_blocks_a_backup_and_names_its_holder()
    {
        var repo = await _repo.InitAsync();
        await RepositoryLock.WriteAsync(_repo.Backend, repo.Keys, Foreign(true, DateTimeOffset.UtcNow), default);

        var ex = await Disks.ThrowsCeso("RepositoryLocked", () => repo.BeginBackupAsync(Disks.Header()));

        Assert.Contains("alice@other-host", ex.Message);
        Assert.Single(Directory.GetFiles(Path.Combine(_repo.Path, "locks"))); // ours was taken back
    }

    [Fact(Timeout = 60_000)]
    public async Task Shared_locks_do_not_conflict_but_prune_waits_for_a_running_backup()
    {
        var repo = await _repo.InitAsync();
        await RepositoryLock.WriteAsync(_repo.Backend, repo.Keys, Foreign(false, DateTimeOffset.UtcNow), default);

        await Disks.BackupAsync(repo, Disks.Synthetic(1, 1 << 20));
        await Disks.ThrowsCeso("RepositoryLocked", () => repo.PruneAsync());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_backup_in_progress_blocks_prune_until_it_ends()
    {
        var repo = await _repo.InitAsync();
        await using (var w = await repo.BeginBackupAsync(Disks.Header()))
        {
            await Disks.ThrowsCeso("RepositoryLocked", () => repo.PruneAsync());
        }

        await repo.PruneAsync();
        Assert.Empty(Directory.GetFiles(Path.Combine(_repo.Path, "locks")));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_lock_not_refreshed_for_30_minutes_is_stale_and_removed()
    {
        var repo = await _repo.InitAsync();
        var stale = await RepositoryLock.WriteAsync(_repo.Backend, repo.Keys, Foreign(true, DateTimeOffset.UtcNow.AddMinutes(-31)), default);

        await Disks.BackupAsync(repo, Disks.Synthetic(2, 1 << 20));

        Assert.Null(await _repo.Backend.StatAsync(FileKind.Lock, stale));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_lock_whose_process_is_gone_from_this_machine_is_stale_at_once()
    {
        var repo = await _repo.InitAsync();
        using var gone = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true") { UseShellExecute = false })!;
        await gone.WaitForExitAsync();
        var dead = new LockInfo(DateTimeOffset.UtcNow, true, Environment.MachineName, Environment.UserName, gone.Id);
        await RepositoryLock.WriteAsync(_repo.Backend, repo.Keys, dead, default);

        await Disks.BackupAsync(repo, Disks.Synthetic(3, 1 << 20));

        Assert.Empty(Directory.GetFiles(Path.Combine(_repo.Path, "locks")));
        Assert.False(Foreign(true, DateTimeOffset.UtcNow).IsStale(DateTimeOffset.UtcNow)); // another host's pid is not judged here
    }

    [Fact(Timeout = 60_000)]
    public async Task A_refresh_replaces_the_lock_file_with_a_newer_one()
    {
        var repo = await _repo.InitAsync();
        await using var held = await repo.LockAsync(exclusive: false, default);
        var first = held.Name;
        var firstTime = (await RepositoryLock.TryReadAsync(_repo.Backend, repo.Keys, first, default))!.Time;
        await Task.Delay(20);

        await held.RefreshAsync(default);

        Assert.NotEqual(first, held.Name);
        Assert.Null(await _repo.Backend.StatAsync(FileKind.Lock, first));
        Assert.True((await RepositoryLock.TryReadAsync(_repo.Backend, repo.Keys, held.Name, default))!.Time > firstTime);
    }
}
