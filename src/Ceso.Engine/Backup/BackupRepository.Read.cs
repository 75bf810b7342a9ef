using System.Runtime.CompilerServices;

namespace Ceso.Engine.Backup;

public sealed partial class BackupRepository
{
    /// <summary>Every snapshot, oldest first. A damaged manifest raises <c>RepositoryDataCorrupt</c> naming it.</summary>
    public async Task<IReadOnlyList<BackupSnapshot>> ListSnapshotsAsync(CancellationToken ct = default) =>
        [.. (await LoadManifestsAsync(ct).ConfigureAwait(false)).Select(m => m.ToSummary())];

    /// <summary>Every manifest, oldest first (manifests are write-once, so decoded ones are kept).</summary>
    internal async Task<IReadOnlyList<SnapshotManifest>> LoadManifestsAsync(CancellationToken ct)
    {
        var names = await ListSnapshotNamesAsync(ct).ConfigureAwait(false);
        var result = new SnapshotManifest[names.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, names.Count), new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = 4 },
            async (i, token) => result[i] = await LoadManifestAsync(names[i], token).ConfigureAwait(false)).ConfigureAwait(false);
        return [.. result.OrderBy(m => m.Time).ThenBy(m => m.Id, StringComparer.Ordinal)];
    }

    internal async Task<List<string>> ListSnapshotNamesAsync(CancellationToken ct)
    {
        var names = new List<string>();
        await foreach (var f in Backend.ListAsync(FileKind.Snapshot, ct).ConfigureAwait(false)) names.Add(f.Name);
        return names;
    }

    /// <summary>A manifest, decoded once and kept; <paramref name="fresh"/> reads it again (check and prune trust no cache).</summary>
    internal async Task<SnapshotManifest> LoadManifestAsync(string name, CancellationToken ct, bool fresh = false)
    {
        lock (_manifests)
        {
            if (!fresh && _manifests.TryGetValue(name, out var known)) return known;
        }

        var bytes = await SealedFile.LoadAsync(Backend, FileKind.Snapshot, name, ct).ConfigureAwait(false);
        var manifest = ManifestCodec.Decode(SealedFile.Read(_keys, ManifestCodec.Purpose, bytes, FileKind.Snapshot, name), name);
        lock (_manifests)
        {
            _manifests[name] = manifest;
        }

        return manifest;
    }

    /// <summary>
    /// The manifest of the snapshot whose id is or starts with <paramref name="idOrPrefix"/> (at least 4 hex digits,
    /// unique). Unknown: <c>BackupNotFound</c>; ambiguous: <c>BackupIdAmbiguous</c>.
    /// </summary>
    public async Task<SnapshotManifest> LoadSnapshotAsync(string idOrPrefix, CancellationToken ct = default)
    {
        var name = await ResolveSnapshotAsync(idOrPrefix, ct).ConfigureAwait(false);
        return await LoadManifestAsync(name, ct).ConfigureAwait(false);
    }

    internal async Task<string> ResolveSnapshotAsync(string idOrPrefix, CancellationToken ct)
    {
        var prefix = idOrPrefix.Trim().ToLowerInvariant();
        if (prefix.Length < 4 || prefix.Length > 64 || !prefix.All(Uri.IsHexDigit))
        {
            throw BackupErrors.Invalid($"'{idOrPrefix}' is not a snapshot id: give at least 4 of its hex digits.");
        }

        var matches = (await ListSnapshotNamesAsync(ct).ConfigureAwait(false)).Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw BackupErrors.NotFound($"snapshot '{idOrPrefix}'", Backend.Location),
            _ => throw new CesoException("BackupIdAmbiguous", CesoErrorKind.InvalidArgument,
                $"'{idOrPrefix}' matches {matches.Count} snapshots ({string.Join(", ", matches.Take(5).Select(m => m[..12]))}); give more digits.")
            { Target = idOrPrefix },
        };
    }

    /// <summary>The plaintext of the block with hash <paramref name="hash"/>.</summary>
    public Task<byte[]> ReadBlobAsync(BlockHash hash, CancellationToken ct = default) => ReadBlobAsync(_keys.IdOf(hash), ct);

    /// <summary>
    /// The plaintext of blob <paramref name="id"/>, verified: it must open, decompress to its recorded length and hash
    /// back to its id, else <c>RepositoryDataCorrupt</c> names the pack and the blob.
    /// </summary>
    public async Task<byte[]> ReadBlobAsync(BlobId id, CancellationToken ct = default)
    {
        if (!Index.TryGet(id, out var entry))
        {
            throw new CesoException("BlobNotFound", CesoErrorKind.NotFound,
                $"The blob {id.ToString()[..16]} is not in the index of the backup repository '{Backend.Location}'. Run Test-CesoBackup to see what is affected.")
            { Target = id.ToString() };
        }

        var pack = Index.PackName(entry.Pack);
        await using var stream = await Backend.OpenAsync(FileKind.Pack, pack, entry.Offset, entry.Length, ct).ConfigureAwait(false);
        if (stream is MemoryStream memory && memory.TryGetBuffer(out var held) && held.Count - (int)memory.Position == entry.Length)
        {
            // The backend read the range into memory already (directory, retrying remote reads): no second copy.
            return DecodeBlob(held.AsSpan((int)memory.Position), id, entry.Compressed, entry.RawLength, pack);
        }

        var stored = new byte[entry.Length];
        await stream.ReadExactlyAsync(stored, ct).ConfigureAwait(false);
        return DecodeBlob(stored, id, entry.Compressed, entry.RawLength, pack);
    }

    /// <summary>Opens, decompresses and verifies one stored blob.</summary>
    internal byte[] DecodeBlob(ReadOnlySpan<byte> stored, BlobId id, bool compressed, int rawLength, string pack)
    {
        var what = $"blob {id.ToString()[..16]} in pack '{pack}'";
        var plain = _keys.OpenBlob(stored, id) ?? throw BackupErrors.Corrupt(what, "does not authenticate");
        var data = compressed ? Zstd.Decompress(plain, rawLength) ?? throw BackupErrors.Corrupt(what, "does not decompress") : plain;
        if (data.Length != rawLength || _keys.IdOf(BlockHash.Of(data)) != id) throw BackupErrors.Corrupt(what, "does not hash to its id");
        return data;
    }

    /// <summary>The bytes of a small file of a snapshot.</summary>
    public Task<byte[]> ReadFileAsync(SnapshotFile file, CancellationToken ct = default) => ReadBlobAsync(file.Hash, ct);

    /// <summary>
    /// The non-zero blocks of a snapshot's disk in order, with their bytes (verified), for a restore: every block not
    /// delivered is zeros. Blocks are read, decrypted and decompressed a few ahead of the consumer, in parallel (at most
    /// <see cref="ReadAhead"/> in flight, so memory stays bounded), while it writes the previous ones to the host.
    /// </summary>
    public async IAsyncEnumerable<DiskBlock> ReadDiskAsync(SnapshotDisk disk, [EnumeratorCancellation] CancellationToken ct = default)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var ahead = new Queue<(List<BlockRef> Blocks, Task<byte[][]> Data)>();
        var next = 0;
        var inFlight = 0;
        try
        {
            void Refill()
            {
                while (next < disk.Blocks.Count && inFlight < Math.Max(ReadAhead, 2 * RunBlocks))
                {
                    var run = NextRun(disk.Blocks, ref next);
                    inFlight += run.Count;
                    ahead.Enqueue((run, Task.Run(() => ReadRunAsync(run, stop.Token), stop.Token)));
                }
            }

            Refill();
            while (ahead.Count > 0)
            {
                var (blocks, read) = ahead.Dequeue();
                var data = await read.ConfigureAwait(false);
                inFlight -= blocks.Count;
                Refill(); // the next reads start while this run's blocks go to the consumer
                for (var i = 0; i < blocks.Count; i++)
                {
                    var b = blocks[i];
                    if (data[i].Length != disk.LengthOf(b.Index))
                    {
                        throw BackupErrors.Corrupt($"block {b.Index} of disk '{disk.Name}'", $"is {data[i].Length} bytes, not {disk.LengthOf(b.Index)}");
                    }

                    yield return new DiskBlock(b.Index, b.Hash, data[i]);
                }
            }
        }
        finally
        {
            // A consumer that stops early, or a failed read, leaves reads in flight: stop them and observe their end.
            stop.Cancel();
            foreach (var (_, pending) in ahead)
            {
                try
                {
                    await pending.ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or CesoException or IOException)
                {
                }
            }
        }
    }

    /// <summary>The most bytes one coalesced read of adjacent blobs may take.</summary>
    internal const int MaxRunBytes = 8 << 20;

    /// <summary>The most blocks one coalesced read takes; two such reads may be in flight (memory stays bounded).</summary>
    internal const int RunBlocks = 8;

    // The next blocks whose blobs lie back to back in one pack (a backup writes a disk's new blocks in order, so an
    // unchanged region reads as a few long ranges): one ranged read each, not one per block, which is what a remote
    // repository pays per request. A blob not in the index ends the run; its read reports it.
    private List<BlockRef> NextRun(IReadOnlyList<BlockRef> blocks, ref int next)
    {
        var run = new List<BlockRef> { blocks[next++] };
        if (!Index.TryGet(_keys.IdOf(run[0].Hash), out var last))
        {
            return run;
        }

        var bytes = (long)last.Length;
        while (next < blocks.Count && run.Count < RunBlocks && Index.TryGet(_keys.IdOf(blocks[next].Hash), out var e) &&
               e.Pack == last.Pack && e.Offset == last.Offset + last.Length && bytes + e.Length <= MaxRunBytes)
        {
            run.Add(blocks[next++]);
            bytes += e.Length;
            last = e;
        }

        return run;
    }

    private async Task<byte[][]> ReadRunAsync(List<BlockRef> run, CancellationToken ct)
    {
        if (run.Count == 1)
        {
            return [await ReadBlobAsync(run[0].Hash, ct).ConfigureAwait(false)];
        }

        var entries = run.Select(b => (Id: _keys.IdOf(b.Hash), Entry: Index.TryGet(_keys.IdOf(b.Hash), out var e) ? e : default)).ToList();
        var first = entries[0].Entry;
        var length = (long)entries[^1].Entry.Offset + entries[^1].Entry.Length - first.Offset;
        var pack = Index.PackName(first.Pack);
        byte[] stored;
        await using (var stream = await Backend.OpenAsync(FileKind.Pack, pack, first.Offset, length, ct).ConfigureAwait(false))
        {
            stored = new byte[length];
            await stream.ReadExactlyAsync(stored, ct).ConfigureAwait(false);
        }

        // One read, then the blobs open, decompress and verify in parallel, as single reads would.
        return await Task.WhenAll(entries.Select(x => Task.Run(() =>
            DecodeBlob(stored.AsSpan((int)(x.Entry.Offset - first.Offset), (int)x.Entry.Length), x.Id, x.Entry.Compressed, x.Entry.RawLength, pack), ct))).ConfigureAwait(false);
    }

    /// <summary>How many blocks <see cref="ReadDiskAsync"/> reads ahead of its consumer.</summary>
    internal static int ReadAhead { get; } = Math.Clamp(Environment.ProcessorCount * 2, 4, 16);

    /// <summary>
    /// The block and file hashes of the latest snapshot of VM <paramref name="vmId"/> (empty when there is none): what
    /// a host reader may skip sending, because the repository holds them.
    /// </summary>
    public async Task<IReadOnlySet<BlockHash>> KnownHashesAsync(string vmId, CancellationToken ct = default)
    {
        var latest = (await LoadManifestsAsync(ct).ConfigureAwait(false)).LastOrDefault(m => m.Header.VmId == vmId);
        var set = new HashSet<BlockHash>();
        if (latest is null) return set;
        var index = Index;
        foreach (var hash in latest.Disks.SelectMany(d => d.Blocks).Select(b => b.Hash).Concat(latest.Files.Select(f => f.Hash)))
        {
            if (index.Contains(_keys.IdOf(hash))) set.Add(hash);
        }

        return set;
    }

    /// <summary>Removes snapshot manifests (restic's forget); the data they alone used is freed by <c>PruneAsync</c>.</summary>
    public async Task ForgetAsync(IEnumerable<string> snapshotIds, CancellationToken ct = default)
    {
        var names = new List<string>();
        foreach (var id in snapshotIds) names.Add(await ResolveSnapshotAsync(id, ct).ConfigureAwait(false));
        await using var held = await LockAsync(exclusive: false, ct).ConfigureAwait(false);
        foreach (var name in names)
        {
            await Backend.RemoveAsync(FileKind.Snapshot, name, ct).ConfigureAwait(false);
            lock (_manifests)
            {
                _manifests.Remove(name);
            }
        }
    }

    /// <summary>Starts a backup: takes a shared lock, held until the writer is committed or disposed.</summary>
    public async Task<BackupWriter> BeginBackupAsync(SnapshotHeader header, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(header);
        var held = await LockAsync(exclusive: false, ct).ConfigureAwait(false);
        return new BackupWriter(this, header, held);
    }

    /// <summary>Saves a manifest and returns its id.</summary>
    internal async Task<string> SaveManifestAsync(byte[] payload, CancellationToken ct)
    {
        var (name, bytes) = SealedFile.Write(_keys, ManifestCodec.Purpose, payload);
        await Backend.SaveAsync(FileKind.Snapshot, name, new MemoryStream(bytes), ct).ConfigureAwait(false);
        return name;
    }
}
