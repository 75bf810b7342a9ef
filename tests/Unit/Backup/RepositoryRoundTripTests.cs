using System.Text;
using Ceso.Engine;
using Ceso.Engine.Backup;

namespace Ceso.Tests.Backup;

public sealed class RepositoryRoundTripTests : IDisposable
{
    private readonly TempRepo _repo = new();

    public void Dispose() => _repo.Dispose();

    [Theory(Timeout = 120_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_sparse_disk_with_duplicates_and_a_short_last_block_restores_bit_for_bit(bool encrypted)
    {
        var disk = Disks.Synthetic(1);
        var repo = await _repo.InitAsync(encrypted);

        var snap = await Disks.BackupAsync(repo, disk);

        var reopened = await _repo.OpenAsync(encrypted ? TempRepo.Password : null);
        Assert.Equal(encrypted, reopened.Encrypted);
        var manifest = await reopened.LoadSnapshotAsync(snap.ShortId);
        var restored = await Disks.RestoreAsync(reopened, Assert.Single(manifest.Disks));
        Assert.True(restored.AsSpan().SequenceEqual(disk));
        Assert.Equal(Disks.Vmx, Encoding.UTF8.GetString(await reopened.ReadFileAsync(Assert.Single(manifest.Files))));
        Assert.Equal(Disks.Vmx, manifest.Header.VmxText);
        Assert.Equal(Environment.MachineName, manifest.Header.ClientHost);
        Assert.Equal("4211-aaaa", manifest.Header.VmId);
        Assert.Equal(disk.LongLength, manifest.Disks[0].Capacity);
        Assert.True(Directory.GetFiles(Path.Combine(_repo.Path, "data"), "*", SearchOption.AllDirectories).Length > 3, "several packs");
    }

    [Fact(Timeout = 120_000)]
    public async Task Zero_blocks_are_never_stored_and_duplicate_blocks_are_stored_once()
    {
        var disk = Disks.Synthetic(2);
        var repo = await _repo.InitAsync();

        var snap = await Disks.BackupAsync(repo, disk);

        var manifest = await repo.LoadSnapshotAsync(snap.Id);
        var distinct = Disks.DistinctNonZeroBlocks(disk, repo.BlockSize);
        Assert.Equal(distinct + 1, manifest.Statistics.NewBlobs); // + the .vmx
        Assert.True(manifest.Disks[0].Blocks.Count > distinct, "the duplicates are listed in the disk");
        Assert.Equal(Disks.NonZeroBlocks(disk, repo.BlockSize).Count(), manifest.Disks[0].Blocks.Count); // zero blocks are not listed
        Assert.True(manifest.Disks[0].Blocks.Count < (manifest.Disks[0].Capacity + repo.BlockSize - 1) / repo.BlockSize);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_second_snapshot_stores_only_the_changed_blocks()
    {
        var disk = Disks.Synthetic(3);
        var repo = await _repo.InitAsync();
        await Disks.BackupAsync(repo, disk);
        var packBytes = PackBytes();
        var changed = (byte[])disk.Clone();
        new Random(9).NextBytes(changed.AsSpan(20 * (64 << 10), 3 * (64 << 10))); // blocks 20, 21, 22

        var second = await Disks.BackupAsync(repo, changed, known: await repo.KnownHashesAsync("4211-aaaa"));

        var m = await repo.LoadSnapshotAsync(second.Id);
        Assert.Equal(3, m.Statistics.NewBlobs);
        Assert.Equal(3L * (64 << 10) + Encoding.UTF8.GetByteCount(Disks.Vmx), m.Statistics.BytesReceived); // the .vmx is always sent
        Assert.InRange(PackBytes() - packBytes, m.Statistics.NewBytesStored, m.Statistics.NewBytesStored + 4096);
        Assert.InRange(m.Statistics.NewBytesStored, 3L * (64 << 10), 3L * (64 << 10) + 3 * 28);
        Assert.True((await Disks.RestoreAsync(repo, m.Disks[0])).AsSpan().SequenceEqual(changed));
        Assert.Equal(2, (await repo.ListSnapshotsAsync()).Count);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_block_skipped_as_known_that_the_repository_lacks_is_refused()
    {
        var repo = await _repo.InitAsync();
        await using var w = await repo.BeginBackupAsync(Disks.Header());
        var d = w.BeginDisk("[ds] a.vmdk", 1 << 20);

        await Disks.ThrowsCeso("BlockMissing", () => d.AddBlockAsync(new DiskBlock(0, BlockHash.Of([1, 2, 3]), null)));
    }

    [Fact(Timeout = 60_000)]
    public async Task An_encrypted_repository_shows_no_plaintext_and_an_unencrypted_one_says_so_in_its_config()
    {
        var marker = new byte[64 << 10];
        new Random(5).NextBytes(marker); // incompressible: stored raw inside the blob
        using var plainRepo = new TempRepo();
        await Disks.BackupAsync(await plainRepo.InitAsync(encrypted: false), marker);
        await Disks.BackupAsync(await _repo.InitAsync(encrypted: true), marker);

        var probe = marker.AsSpan(1000, 64).ToArray();
        Assert.Contains(Directory.EnumerateFiles(plainRepo.Path, "*", SearchOption.AllDirectories), f => File.ReadAllBytes(f).AsSpan().IndexOf(probe) >= 0);
        Assert.DoesNotContain(Directory.EnumerateFiles(_repo.Path, "*", SearchOption.AllDirectories), f => File.ReadAllBytes(f).AsSpan().IndexOf(probe) >= 0);
        Assert.Equal(0, File.ReadAllBytes(Path.Combine(plainRepo.Path, "config"))[9]);
        Assert.Equal(1, File.ReadAllBytes(Path.Combine(_repo.Path, "config"))[9]);
        Assert.Empty(Directory.GetFiles(Path.Combine(_repo.Path, "snapshots")).SelectMany(f => File.ReadAllText(f).Split("vm01")).Skip(1));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_wrong_password_is_refused_and_touches_nothing()
    {
        var repo = await _repo.InitAsync();
        await Disks.BackupAsync(repo, Disks.Synthetic(4, 1 << 20));
        var before = _repo.Files();

        var ex = await Disks.ThrowsCeso("RepositoryPasswordWrong", () => _repo.OpenAsync("wrong"));

        Assert.Equal(CesoErrorKind.Security, ex.Kind);
        Assert.Equal(before, _repo.Files());
        await Disks.ThrowsCeso("RepositoryPasswordWrong", () => _repo.OpenAsync(null));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_changed_password_opens_the_repository_and_the_old_one_no_longer_does()
    {
        var repo = await _repo.InitAsync();
        var snap = await Disks.BackupAsync(repo, Disks.Synthetic(5, 1 << 20));
        var dataBefore = Directory.GetFiles(Path.Combine(_repo.Path, "data"), "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);

        var second = await repo.AddKeyAsync("second", 1000);
        await (await _repo.OpenAsync("second")).ChangePasswordAsync("third", 1000);

        await Disks.ThrowsCeso("RepositoryPasswordWrong", () => _repo.OpenAsync("second"));
        var opened = await _repo.OpenAsync("third");
        Assert.Equal(snap.Id, Assert.Single(await opened.ListSnapshotsAsync()).Id);
        Assert.DoesNotContain(second, await opened.ListKeysAsync());
        Assert.NotNull(await _repo.OpenAsync(TempRepo.Password)); // the first key still works
        Assert.All(dataBefore, kv => Assert.Equal(kv.Value, File.ReadAllBytes(kv.Key)));
    }

    [Fact(Timeout = 120_000)]
    public async Task Two_backups_into_one_repository_at_once_both_succeed()
    {
        var repo = await _repo.InitAsync();
        var a = Disks.Synthetic(6, 8 << 20);
        var b = Disks.Synthetic(7, 8 << 20);

        var other = await _repo.OpenAsync(); // as a second process would

        var snaps = await Task.WhenAll(
            Task.Run(() => Disks.BackupAsync(repo, a, Disks.Header("a", "id-a"))),
            Task.Run(() => Disks.BackupAsync(other, b, Disks.Header("b", "id-b"))));

        var reopened = await _repo.OpenAsync();
        Assert.Equal(2, Directory.GetFiles(Path.Combine(_repo.Path, "index")).Length);
        Assert.True((await Disks.RestoreAsync(reopened, (await reopened.LoadSnapshotAsync(snaps[0].Id)).Disks[0])).AsSpan().SequenceEqual(a));
        Assert.True((await Disks.RestoreAsync(reopened, (await reopened.LoadSnapshotAsync(snaps[1].Id)).Disks[0])).AsSpan().SequenceEqual(b));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_backup_disposed_without_commit_leaves_no_snapshot_and_the_next_one_succeeds()
    {
        var repo = await _repo.InitAsync();
        var disk = Disks.Synthetic(8, 8 << 20);
        await using (var w = await repo.BeginBackupAsync(Disks.Header()))
        {
            var d = w.BeginDisk("[ds] a.vmdk", disk.LongLength);
            await Disks.FeedAsync(d, disk);
        }

        Assert.Empty(await repo.ListSnapshotsAsync());
        Assert.Empty(Directory.GetFiles(Path.Combine(_repo.Path, "locks")));
        var snap = await Disks.BackupAsync(repo, disk);
        var m = await (await _repo.OpenAsync()).LoadSnapshotAsync(snap.Id);
        Assert.True((await Disks.RestoreAsync(repo, m.Disks[0])).AsSpan().SequenceEqual(disk));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_snapshot_is_found_by_a_unique_prefix_and_an_unknown_one_is_not_found()
    {
        var repo = await _repo.InitAsync();
        var snap = await Disks.BackupAsync(repo, Disks.Synthetic(9, 1 << 20));

        Assert.Equal(snap.Id, (await repo.LoadSnapshotAsync(snap.Id[..6].ToUpperInvariant())).Id);
        await Disks.ThrowsCeso("BackupNotFound", () => repo.LoadSnapshotAsync(snap.Id[0] == 'f' ? "0000" : "ffff"));
        await Disks.ThrowsCeso("BackupInvalidArgument", () => repo.LoadSnapshotAsync("vm01"));
    }

    private long PackBytes() => Directory.GetFiles(Path.Combine(_repo.Path, "data"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
}
