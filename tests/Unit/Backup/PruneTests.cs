using Ceso.Engine.Backup;
using Xunit.Abstractions;

namespace Ceso.Tests.Backup;

public sealed class PruneTests(ITestOutputHelper output) : IDisposable
{
    private readonly List<TempRepo> _repos = [];

    public void Dispose() => _repos.ForEach(r => r.Dispose());

    private TempRepo NewRepo()
    {
        var repo = new TempRepo();
        _repos.Add(repo);
        return repo;
    }

    /// <summary>Two snapshots that share a third of their blocks; the first is forgotten. Returns the second disk and snapshot.</summary>
    private static async Task<(byte[] Disk, string Snapshot)> TwoThenForgetFirstAsync(BackupRepository repo)
    {
        var a = Disks.Synthetic(10, 6 << 20);
        var b = (byte[])a.Clone();
        new Random(11).NextBytes(b.AsSpan(0, 4 << 20)); // b keeps a's last 2 MiB
        var first = await Disks.BackupAsync(repo, a);
        var second = await Disks.BackupAsync(repo, b);
        await repo.ForgetAsync([first.Id]);
        return (b, second.Id);
    }

    private static long PackBytes(TempRepo r) => Directory.GetFiles(Path.Combine(r.Path, "data"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    [Fact(Timeout = 120_000)]
    public async Task Prune_after_forget_frees_the_space_only_the_forgotten_snapshot_used()
    {
        var r = NewRepo();
        var repo = await r.InitAsync();
        var (disk, snap) = await TwoThenForgetFirstAsync(repo);
        var before = PackBytes(r);

        var result = await repo.PruneAsync();

        Assert.True(result.PacksDeleted > 0 && result.BlobsRemoved > 0, result.ToString());
        Assert.Equal(before - PackBytes(r), result.BytesFreed);
        var alone = NewRepo(); // what the kept snapshot takes in a repository of its own
        await Disks.BackupAsync(await alone.InitAsync(), disk);
        Assert.InRange(PackBytes(r), PackBytes(alone) * 9 / 10, PackBytes(alone) * 11 / 10);
        var reopened = await r.OpenAsync();
        Assert.Empty((await reopened.CheckAsync(new CheckOptions { ReadData = true })).Problems);
        Assert.True((await Disks.RestoreAsync(reopened, (await reopened.LoadSnapshotAsync(snap)).Disks[0])).AsSpan().SequenceEqual(disk));
        Assert.Single(Directory.GetFiles(Path.Combine(r.Path, "index")));
        Assert.Equal(new PruneResult(0, 0, 0, 0, 0), await reopened.PruneAsync()); // nothing left to do
    }

    /// <summary>20 incompressible blocks in one ~1.25 MiB pack, of which 3 stay live: prune must rewrite that pack.</summary>
    private static async Task<(byte[] Disk, string Snapshot)> MostlyGarbageAsync(BackupRepository repo)
    {
        var big = new byte[20 << 16];
        new Random(3).NextBytes(big);
        var first = await Disks.BackupAsync(repo, big);
        var small = new byte[big.Length];
        big.AsSpan(0, 3 << 16).CopyTo(small);
        var second = await Disks.BackupAsync(repo, small);
        await repo.ForgetAsync([first.Id]);
        return (small, second.Id);
    }

    [Theory(Timeout = 300_000)]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_prune_interrupted_at_any_step_loses_nothing_and_the_next_prune_finishes(bool rewrite)
    {
        var points = 0;
        for (var failAt = 1; failAt < 200; failAt++)
        {
            var r = NewRepo();
            var faulty = new FaultyBackend(r.Backend);
            var repo = await r.InitAsync(backend: faulty);
            var (disk, snap) = rewrite ? await MostlyGarbageAsync(repo) : await TwoThenForgetFirstAsync(repo);
            faulty.FailAt = faulty.Changes + failAt;

            try
            {
                await repo.PruneAsync();
                break; // past the last change: every step has been interrupted once
            }
            catch (IOException)
            {
                points++;
            }

            var reopened = await r.OpenAsync();
            var report = await reopened.CheckAsync(new CheckOptions { ReadData = true });
            Assert.True(report.Ok, $"after a failure at change {failAt}: " + string.Join("; ", report.Problems.Select(p => p.Message)));
            Assert.True((await Disks.RestoreAsync(reopened, (await reopened.LoadSnapshotAsync(snap)).Disks[0])).AsSpan().SequenceEqual(disk));

            await reopened.PruneAsync();
            Assert.Empty((await reopened.CheckAsync(new CheckOptions { ReadData = true })).Problems);
            Assert.True((await Disks.RestoreAsync(reopened, (await reopened.LoadSnapshotAsync(snap)).Disks[0])).AsSpan().SequenceEqual(disk));
            r.Dispose();
        }

        output.WriteLine($"prune interrupted at {points} points");
        Assert.True(points >= 4, $"only {points} changes in a prune");
    }

    [Fact(Timeout = 120_000)]
    public async Task A_mostly_garbage_pack_is_rewritten_and_its_live_blobs_survive()
    {
        var r = NewRepo();
        var repo = await r.InitAsync();
        var (small, second) = await MostlyGarbageAsync(repo);

        var result = await repo.PruneAsync();

        Assert.True(result.PacksRewritten >= 1 && result.PacksWritten >= 1, result.ToString());
        Assert.True(PackBytes(r) < 8 << 16, $"{PackBytes(r)} bytes left");
        var reopened = await r.OpenAsync();
        Assert.Empty((await reopened.CheckAsync(new CheckOptions { ReadData = true })).Problems);
        Assert.True((await Disks.RestoreAsync(reopened, (await reopened.LoadSnapshotAsync(second)).Disks[0])).AsSpan().SequenceEqual(small));
    }

    [Fact(Timeout = 60_000)]
    public async Task Prune_is_refused_while_a_snapshot_is_unreadable()
    {
        var r = NewRepo();
        var repo = await r.InitAsync();
        await TwoThenForgetFirstAsync(repo);
        var manifest = Directory.GetFiles(Path.Combine(r.Path, "snapshots")).Single();
        var bytes = File.ReadAllBytes(manifest);
        bytes[40] ^= 1;
        File.WriteAllBytes(manifest, bytes);
        var before = r.Files().Where(f => !f.Key.Contains("snapshots")).ToDictionary();

        await Disks.ThrowsCeso("PruneRefused", () => repo.PruneAsync());

        Assert.Equal(before, r.Files().Where(f => !f.Key.Contains("snapshots")).ToDictionary());
    }
}
