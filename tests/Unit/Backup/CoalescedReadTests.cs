using System.Runtime.CompilerServices;
using Ceso.Engine.Backup;

namespace Ceso.Tests.Backup;

/// <summary>A restore reads blobs that lie back to back in a pack with one ranged read, not one per block.</summary>
public sealed class CoalescedReadTests : IDisposable
{
    private readonly TempRepo _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact(Timeout = 60_000)]
    public async Task A_disk_reads_back_whole_with_far_fewer_pack_reads_than_blocks_and_a_damaged_blob_is_still_named()
    {
        var counting = new CountingOpens(_repo.Backend);
        var repo = await BackupRepository.InitAsync(counting, TempRepo.Password, TempRepo.Options);
        var disk = Disks.Synthetic(5, 16 << 20); // 256 blocks of 64 KiB: zeros, text, random, duplicates
        var snap = await Disks.BackupAsync(repo, disk);
        var reopened = await BackupRepository.OpenAsync(counting, TempRepo.Password);
        var manifest = (await reopened.LoadSnapshotAsync(snap.Id)).Disks[0];

        counting.PackOpens = 0;
        Assert.True((await Disks.RestoreAsync(reopened, manifest)).AsSpan().SequenceEqual(disk));
        // Blobs land in a pack in the order the compressing workers finish, so on a loaded machine neighbours swap and
        // runs break (a clean-clone run saw 101 reads for 192 blocks; unloaded it is under half): at most three quarters.
        Assert.True(counting.PackOpens * 4 <= manifest.Blocks.Count * 3, $"{counting.PackOpens} pack reads for {manifest.Blocks.Count} blocks");

        // A flipped byte inside a coalesced range is reported for its own blob.
        var pack = Directory.EnumerateFiles(Path.Combine(_repo.Path, "data"), "*", SearchOption.AllDirectories).OrderByDescending(f => new FileInfo(f).Length).First();
        var bytes = await File.ReadAllBytesAsync(pack);
        bytes[bytes.Length / 2] ^= 0x40;
        await File.WriteAllBytesAsync(pack, bytes);
        var fresh = await BackupRepository.OpenAsync(_repo.Backend, TempRepo.Password);
        var e = await Assert.ThrowsAsync<Ceso.Engine.CesoException>(() => Disks.RestoreAsync(fresh, manifest));
        Assert.Equal("RepositoryDataCorrupt", e.ErrorId);
        Assert.Contains(Path.GetFileName(pack), e.Message, StringComparison.Ordinal);
    }

    private sealed class CountingOpens(IBackupBackend inner) : IBackupBackend
    {
        public int PackOpens;

        public string Location => inner.Location;

        public Task SaveAsync(FileKind kind, string name, Stream data, CancellationToken ct = default) => inner.SaveAsync(kind, name, data, ct);

        public Task<Stream> OpenAsync(FileKind kind, string name, long offset = 0, long? length = null, CancellationToken ct = default)
        {
            if (kind == FileKind.Pack) Interlocked.Increment(ref PackOpens);
            return inner.OpenAsync(kind, name, offset, length, ct);
        }

        public Task<long?> StatAsync(FileKind kind, string name, CancellationToken ct = default) => inner.StatAsync(kind, name, ct);

        public async IAsyncEnumerable<BackendFile> ListAsync(FileKind kind, [EnumeratorCancellation] CancellationToken ct = default)
        {
            await foreach (var f in inner.ListAsync(kind, ct)) yield return f;
        }

        public Task RemoveAsync(FileKind kind, string name, CancellationToken ct = default) => inner.RemoveAsync(kind, name, ct);
    }
}
