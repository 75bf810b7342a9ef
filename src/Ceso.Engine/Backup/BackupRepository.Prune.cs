namespace Ceso.Engine.Backup;

/// <summary>What a prune did.</summary>
/// <param name="PacksDeleted">Packs removed (unreferenced, rewritten or unindexed).</param>
/// <param name="PacksRewritten">Packs whose live blobs were copied into new packs.</param>
/// <param name="PacksWritten">New packs written.</param>
/// <param name="BlobsRemoved">Blobs no snapshot uses any more that are gone.</param>
/// <param name="BytesFreed">Pack bytes removed minus pack bytes written.</param>
public sealed record PruneResult(int PacksDeleted, int PacksRewritten, int PacksWritten, long BlobsRemoved, long BytesFreed);

public sealed partial class BackupRepository
{
    /// <summary>
    /// Frees the space of blobs no snapshot uses (after <see cref="ForgetAsync"/>), under an exclusive lock. Packs with
    /// no live blob are deleted; packs less than half live are rewritten (their live blobs copied, still sealed, into
    /// new packs); packs no index lists (interrupted backups) are deleted. Order, so that stopping at any point loses
    /// nothing: new packs, then one new index file that supersedes all old ones, then the old index files, then the
    /// old packs. Refused while any index file or snapshot is unreadable (its blobs could look unused).
    /// </summary>
    public async Task<PruneResult> PruneAsync(CancellationToken ct = default)
    {
        await using var held = await LockAsync(exclusive: true, ct).ConfigureAwait(false);
        var (files, problems) = await ReadIndexFilesAsync(ct).ConfigureAwait(false);
        if (problems.Count > 0) throw Refused(problems[0]);
        var used = new HashSet<BlobId>();
        foreach (var name in await ListSnapshotNamesAsync(ct).ConfigureAwait(false))
        {
            SnapshotManifest m;
            try
            {
                m = await LoadManifestAsync(name, ct, fresh: true).ConfigureAwait(false);
            }
            catch (CesoException ex)
            {
                throw Refused(ex.Message);
            }

            foreach (var b in m.Disks.SelectMany(d => d.Blocks)) used.Add(_keys.IdOf(b.Hash));
            foreach (var f in m.Files) used.Add(_keys.IdOf(f.Hash));
        }

        var present = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var f in Backend.ListAsync(FileKind.Pack, ct).ConfigureAwait(false)) present[f.Name] = f.Size;
        var superseded = files.SelectMany(f => f.Content.Supersedes).ToHashSet(StringComparer.Ordinal);
        var packs = new Dictionary<string, IndexedPack>(StringComparer.Ordinal);
        foreach (var pack in files.Where(f => !superseded.Contains(f.Name)).SelectMany(f => f.Content.Packs))
        {
            if (present.TryGetValue(pack.Name, out var size) && size == pack.Size) packs.TryAdd(pack.Name, pack);
        }

        // Packs kept whole: at least half their blob bytes live. Each live blob then has one home.
        var intact = packs.Values.Where(p => p.Entries.Sum(e => used.Contains(e.Id) ? (long)e.Length : 0) * 2 >= p.Entries.Sum(e => (long)e.Length) && p.Entries.Any(e => used.Contains(e.Id))).ToList();
        var home = new HashSet<BlobId>(intact.SelectMany(p => p.Entries.Select(e => e.Id)));
        var toCopy = new List<(IndexedPack Pack, PackEntry Entry)>();
        foreach (var pack in packs.Values.Except(intact))
        {
            foreach (var e in pack.Entries.Where(e => used.Contains(e.Id) && home.Add(e.Id))) toCopy.Add((pack, e));
        }

        var lost = used.Where(id => !home.Contains(id)).Take(1).ToList();
        if (lost.Count > 0) throw Refused($"blob {lost[0].ToString()[..16]} that a snapshot uses is in no pack present");
        var keep = intact.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var doomed = present.Keys.Where(n => !keep.Contains(n)).ToList();
        if (doomed.Count == 0 && files.Count == 1 && superseded.Count == 0) return new PruneResult(0, 0, 0, 0, 0);

        var written = await CopyBlobsAsync(toCopy, ct).ConfigureAwait(false);
        var newIndex = await SaveIndexAsync(new IndexFile([.. files.Select(f => f.Name)], [.. intact, .. written]), ct).ConfigureAwait(false);
        foreach (var (name, _) in files.Where(f => f.Name != newIndex)) await Backend.RemoveAsync(FileKind.Index, name, ct).ConfigureAwait(false);
        foreach (var name in doomed) await Backend.RemoveAsync(FileKind.Pack, name, ct).ConfigureAwait(false);
        await ReloadIndexAsync(ct).ConfigureAwait(false);

        var removedBlobs = packs.Values.Except(intact).Sum(p => p.Entries.Count) - toCopy.Count;
        var freed = doomed.Sum(n => present[n]) - written.Sum(p => p.Size);
        return new PruneResult(doomed.Count, toCopy.Select(c => c.Pack.Name).Distinct().Count(), written.Count, removedBlobs, freed);
    }

    /// <summary>Copies live blobs (verified, still sealed: a blob's seal binds its id, not its pack) into new packs.</summary>
    private async Task<List<IndexedPack>> CopyBlobsAsync(List<(IndexedPack Pack, PackEntry Entry)> blobs, CancellationToken ct)
    {
        var written = new List<IndexedPack>();
        var builder = new PackBuilder();
        foreach (var (pack, e) in blobs)
        {
            byte[] stored;
            await using (var stream = await Backend.OpenAsync(FileKind.Pack, pack.Name, e.Offset, e.Length, ct).ConfigureAwait(false))
            {
                stored = new byte[e.Length];
                await stream.ReadExactlyAsync(stored, ct).ConfigureAwait(false);
            }

            DecodeBlob(stored, e.Id, e.Compressed, (int)e.RawLength, pack.Name);
            builder.Add(e.Id, e.Compressed, stored, (int)e.RawLength);
            if (builder.Size >= PackSize)
            {
                written.Add(await SavePackAsync(builder, ct).ConfigureAwait(false));
                builder = new PackBuilder();
            }
        }

        if (builder.Count > 0) written.Add(await SavePackAsync(builder, ct).ConfigureAwait(false));
        return written;
    }

    private async Task<IndexedPack> SavePackAsync(PackBuilder builder, CancellationToken ct)
    {
        var (name, bytes, entries) = builder.Finish(_keys);
        await Backend.SaveAsync(FileKind.Pack, name, new MemoryStream(bytes), ct).ConfigureAwait(false);
        return new IndexedPack(name, bytes.Length, entries);
    }

    private CesoException Refused(string why) => BackupErrors.State("PruneRefused",
        $"Prune of '{Backend.Location}' refused, nothing was removed: {why}. Run Test-CesoBackup and repair first.");
}
