using Ceso.Engine.Backup;

namespace Ceso.Tests.Backup;

public sealed class RebuildIndexTests : IDisposable
{
    private readonly TempRepo _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact(Timeout = 120_000)]
    public async Task Packs_of_an_interrupted_backup_are_indexed_from_their_headers_and_reused_by_the_next_backup()
    {
        var repo = await _repo.InitAsync();
        var disk = Disks.Synthetic(1, 8 << 20);
        await using (var w = await repo.BeginBackupAsync(Disks.Header()))
        {
            await Disks.FeedAsync(w.BeginDisk("[ds] a.vmdk", disk.LongLength), disk);
        } // abandoned: its full packs were saved, no index, no snapshot

        var rebuilt = await repo.RebuildIndexAsync();

        Assert.True(rebuilt.PacksIndexed > 0 && rebuilt.BlobsIndexed > 0, rebuilt.ToString());
        var snap = await Disks.BackupAsync(repo, disk);
        var m = await repo.LoadSnapshotAsync(snap.Id);
        Assert.Equal(Disks.DistinctNonZeroBlocks(disk, repo.BlockSize) + 1 - rebuilt.BlobsIndexed, m.Statistics.NewBlobs); // + the .vmx
        var report = await (await _repo.OpenAsync()).CheckAsync(new CheckOptions { ReadData = true });
        Assert.Empty(report.Problems);
        Assert.Equal(new RebuildResult(0, 0, 0, []), await repo.RebuildIndexAsync() with { UnreadablePacks = [] });
    }

    [Fact(Timeout = 120_000)]
    public async Task A_damaged_index_file_is_replaced_by_a_full_rebuild_and_the_repository_checks_clean()
    {
        var repo = await _repo.InitAsync();
        var disk = Disks.Synthetic(2, 4 << 20);
        var snap = await Disks.BackupAsync(repo, disk);
        var index = Directory.GetFiles(Path.Combine(_repo.Path, "index")).Single();
        var bytes = File.ReadAllBytes(index);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(index, bytes);
        var damaged = await _repo.OpenAsync();
        Assert.Contains(damaged.LoadProblems, p => p.Contains(Path.GetFileName(index)));
        Assert.Contains((await damaged.CheckAsync()).Problems, p => p.Code == "IndexDamaged");

        var result = await damaged.RebuildIndexAsync(full: true);

        Assert.Equal(1, result.IndexFilesReplaced);
        var reopened = await _repo.OpenAsync();
        Assert.Empty(reopened.LoadProblems);
        Assert.Empty((await reopened.CheckAsync(new CheckOptions { ReadData = true })).Problems);
        Assert.True((await Disks.RestoreAsync(reopened, (await reopened.LoadSnapshotAsync(snap.Id)).Disks[0])).AsSpan().SequenceEqual(disk));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_restore_lock_keeps_prune_out_until_it_is_released()
    {
        var repo = await _repo.InitAsync();
        await using (await repo.AcquireLockAsync())
        {
            await Disks.ThrowsCeso("RepositoryLocked", () => repo.PruneAsync());
        }

        await repo.PruneAsync();
    }
}
