using System.Buffers.Binary;

namespace Ceso.Engine.Backup;

/// <summary>What <see cref="BackupRepository.RebuildIndexAsync"/> did.</summary>
/// <param name="PacksIndexed">Packs whose headers were read into the new index file.</param>
/// <param name="BlobsIndexed">Blob entries in it.</param>
/// <param name="IndexFilesReplaced">Old index files it superseded and removed (full rebuild only).</param>
/// <param name="UnreadablePacks">Packs whose header could not be read (left as they are; check names them).</param>
public sealed record RebuildResult(int PacksIndexed, long BlobsIndexed, int IndexFilesReplaced, IReadOnlyList<string> UnreadablePacks);

public sealed partial class BackupRepository
{
    /// <summary>
    /// Rebuilds index entries from pack headers. By default only packs that no index lists (left by an interrupted
    /// backup) are read and added in a new index file, under a shared lock, so their blobs are reused by the next backup
    /// instead of being sent again. With <paramref name="full"/>, under an exclusive lock, every pack's header is read
    /// into one index file that supersedes every existing index file (damaged ones included), which are then removed:
    /// the repair for an index file that check reports as damaged.
    /// </summary>
    public async Task<RebuildResult> RebuildIndexAsync(bool full = false, CancellationToken ct = default)
    {
        await using var held = await LockAsync(exclusive: full, ct).ConfigureAwait(false);
        var (files, _) = await ReadIndexFilesAsync(ct).ConfigureAwait(false);
        var oldIndexFiles = new List<string>();
        await foreach (var f in Backend.ListAsync(FileKind.Index, ct).ConfigureAwait(false)) oldIndexFiles.Add(f.Name);
        var superseded = files.SelectMany(f => f.Content.Supersedes).ToHashSet(StringComparer.Ordinal);
        var indexed = files.Where(f => !superseded.Contains(f.Name)).SelectMany(f => f.Content.Packs).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var packs = new List<IndexedPack>();
        var unreadable = new List<string>();
        await foreach (var pack in Backend.ListAsync(FileKind.Pack, ct).ConfigureAwait(false))
        {
            if (!full && indexed.Contains(pack.Name)) continue;
            try
            {
                packs.Add(new IndexedPack(pack.Name, pack.Size, await ReadPackHeaderAsync(pack.Name, pack.Size, ct).ConfigureAwait(false)));
            }
            catch (CesoException ex) when (ex.ErrorId == "RepositoryDataCorrupt")
            {
                unreadable.Add(pack.Name);
            }
        }

        if (packs.Count == 0 && !full) return new RebuildResult(0, 0, 0, unreadable);
        var name = await SaveIndexAsync(new IndexFile(full ? oldIndexFiles : [], packs), ct).ConfigureAwait(false);
        var replaced = 0;
        if (full)
        {
            foreach (var old in oldIndexFiles.Where(o => o != name))
            {
                await Backend.RemoveAsync(FileKind.Index, old, ct).ConfigureAwait(false);
                replaced++;
            }
        }

        await ReloadIndexAsync(ct).ConfigureAwait(false);
        return new RebuildResult(packs.Count, packs.Sum(p => (long)p.Entries.Count), replaced, unreadable);
    }

    /// <summary>Reads a pack's header from its tail (two ranged reads: the length, then the sealed header).</summary>
    internal async Task<IReadOnlyList<PackEntry>> ReadPackHeaderAsync(string pack, long size, CancellationToken ct)
    {
        if (size < 4) throw BackupErrors.Corrupt($"pack '{pack}'", "is too short for a header");
        var lengthBytes = await ReadRangeAsync(FileKind.Pack, pack, size - 4, 4, ct).ConfigureAwait(false);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (length + 4L > size) throw BackupErrors.Corrupt($"pack '{pack}'", "has a header length past its start");
        var tail = await ReadRangeAsync(FileKind.Pack, pack, size - 4 - length, length + 4, ct).ConfigureAwait(false);
        return PackBuilder.ReadHeader(_keys, tail, size, pack);
    }

    private async Task<byte[]> ReadRangeAsync(FileKind kind, string name, long offset, long length, CancellationToken ct)
    {
        await using var stream = await Backend.OpenAsync(kind, name, offset, length, ct).ConfigureAwait(false);
        var bytes = new byte[length];
        await stream.ReadExactlyAsync(bytes, ct).ConfigureAwait(false);
        return bytes;
    }

    /// <summary>
    /// Takes a lock on the repository for as long as the returned handle is not disposed: shared for a restore (so a
    /// prune cannot remove packs under it), exclusive for maintenance. Backups, forget, check and prune lock by
    /// themselves. A live conflicting lock raises <c>RepositoryLocked</c> naming its holder.
    /// </summary>
    public async Task<IAsyncDisposable> AcquireLockAsync(bool exclusive = false, CancellationToken ct = default) =>
        await LockAsync(exclusive, ct).ConfigureAwait(false);
}
