using Ceso.Engine;
using Ceso.Engine.Backup;

namespace Ceso.Tests.Backup;

public sealed class CheckTests : IDisposable
{
    private readonly TempRepo _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact(Timeout = 60_000)]
    public async Task A_healthy_repository_checks_clean_with_every_blob_read()
    {
        var repo = await _repo.InitAsync();
        await Disks.BackupAsync(repo, Disks.Synthetic(1, 4 << 20));

        var report = await repo.CheckAsync(new CheckOptions { ReadData = true });

        Assert.Empty(report.Problems);
        Assert.Equal(report.Packs, report.PacksRead);
        Assert.Equal(Disks.DistinctNonZeroBlocks(Disks.Synthetic(1, 4 << 20), repo.BlockSize) + 1, report.BlobsRead);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_subset_n_of_m_reads_every_pack_exactly_once_over_m_runs()
    {
        var repo = await _repo.InitAsync();
        await Disks.BackupAsync(repo, Disks.Synthetic(2, 8 << 20));
        var total = 0;
        for (var n = 1; n <= 3; n++)
        {
            total += (await repo.CheckAsync(new CheckOptions { ReadData = true, ReadDataSubset = $"{n}/3" })).PacksRead;
        }

        Assert.Equal((await repo.CheckAsync()).Packs, total);
        await Disks.ThrowsCeso("BackupInvalidArgument", () => repo.CheckAsync(new CheckOptions { ReadData = true, ReadDataSubset = "half" }));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_pack_is_reported_with_the_snapshot_and_disk_it_breaks()
    {
        var repo = await _repo.InitAsync();
        var snap = await Disks.BackupAsync(repo, Disks.Synthetic(3, 4 << 20));
        var pack = Directory.GetFiles(Path.Combine(_repo.Path, "data"), "*", SearchOption.AllDirectories).First();
        File.Delete(pack);

        var report = await (await _repo.OpenAsync()).CheckAsync();

        var problem = Assert.Single(report.Problems, p => p.Code == "PackMissing");
        Assert.Equal([snap.Id], problem.Snapshots);
        Assert.Contains($"{snap.ShortId}:[datastore1] vm01/vm01.vmdk", problem.Disks);
        Assert.False(report.Ok);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_backend_failing_in_the_middle_of_a_pack_leaves_no_snapshot_and_the_next_backup_checks_clean()
    {
        var faulty = new FaultyBackend(_repo.Backend) { Only = FileKind.Pack, FailAt = 2 };
        var repo = await _repo.InitAsync(backend: faulty);
        var disk = Disks.Synthetic(4, 8 << 20);

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => Disks.BackupAsync(repo, disk));
        Assert.Contains("injected failure", failure.ToString());
        var left = Directory.GetFiles(Path.Combine(_repo.Path, "data"), "*", SearchOption.AllDirectories).Length;

        Assert.False(Directory.Exists(Path.Combine(_repo.Path, "snapshots")) && Directory.GetFiles(Path.Combine(_repo.Path, "snapshots")).Length > 0);
        Assert.Empty(Directory.GetFiles(_repo.Path, ".tmp-*", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(Path.Combine(_repo.Path, "locks")));
        var reopened = await _repo.OpenAsync();
        var snap = await Disks.BackupAsync(reopened, disk);
        var report = await reopened.CheckAsync(new CheckOptions { ReadData = true });
        Assert.True(report.Ok, string.Join("; ", report.Problems.Select(p => p.Message)));
        Assert.True(report.Problems.Any(p => p.Code == "PackUnindexed"), $"{left} packs left; {string.Join(",", faulty.Log)}" + string.Join("; ", report.Problems.Select(p => p.Message))); // the first attempt's packs, until prune
        Assert.True((await Disks.RestoreAsync(reopened, (await reopened.LoadSnapshotAsync(snap.Id)).Disks[0])).AsSpan().SequenceEqual(disk));
        await reopened.PruneAsync();
        Assert.Empty((await reopened.CheckAsync(new CheckOptions { ReadData = true })).Problems);
    }

    [Theory(Timeout = 300_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_flipped_byte_anywhere_in_any_file_is_detected_never_read_as_good_data(bool encrypted)
    {
        var disk = Disks.Synthetic(5, 2 << 20);
        var repo = await _repo.InitAsync(encrypted);
        await Disks.BackupAsync(repo, disk);
        var files = Directory.GetFiles(_repo.Path, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/locks/")).ToList();
        var random = new Random(1234);
        var kinds = new HashSet<string>();
        foreach (var file in files)
        {
            var original = File.ReadAllBytes(file);
            var positions = Enumerable.Range(0, 12).Select(_ => random.Next(original.Length)).Append(0).Append(original.Length - 1);
            foreach (var at in positions.Distinct())
            {
                var damaged = (byte[])original.Clone();
                damaged[at] ^= (byte)(1 << random.Next(8));
                File.WriteAllBytes(file, damaged);
                try
                {
                    Assert.True(await Detected(disk), $"a flip at {at} of {file[_repo.Path.Length..]} went unnoticed");
                }
                finally
                {
                    File.WriteAllBytes(file, original);
                }
            }

            kinds.Add(file[_repo.Path.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries)[0]);
        }

        Assert.Superset(new HashSet<string> { "config", "data", "index", "snapshots" }, kinds);
        if (encrypted) Assert.Contains("keys", kinds);
        Assert.True(await Detected(disk) == false, "the restored repository is healthy again");
    }

    /// <summary>True when the damage shows: open fails, check reports an error, or a read fails; false when all reads back right.</summary>
    private async Task<bool> Detected(byte[] disk)
    {
        BackupRepository repo;
        try
        {
            repo = await _repo.OpenAsync();
            var report = await repo.CheckAsync(new CheckOptions { ReadData = true });
            if (!report.Ok) return true;
            var m = await repo.LoadSnapshotAsync((await repo.ListSnapshotsAsync()).Single().Id);
            var restored = await Disks.RestoreAsync(repo, m.Disks[0]);
            Assert.True(restored.AsSpan().SequenceEqual(disk), "damage was read back as data");
            return false;
        }
        catch (CesoException ex) when (ex.ErrorId is "RepositoryDataCorrupt" or "RepositoryNotFound" or "RepositoryPasswordWrong" or "BlobNotFound")
        {
            return true;
        }
    }
}
