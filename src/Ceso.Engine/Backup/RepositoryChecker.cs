using System.Globalization;

namespace Ceso.Engine.Backup;

/// <summary>
/// The checker (restic's <c>check</c>): structure first — keys, index files, snapshots decode; every blob a snapshot
/// references is indexed; every indexed pack exists with its recorded size; packs no index lists — then, with
/// ReadData, every pack is read whole: its name must be its SHA-256, its header must match the index, and every blob
/// must decrypt, decompress and hash to its id. Each problem names the snapshots and disks it affects.
/// </summary>
internal sealed class RepositoryChecker(BackupRepository repo, CheckOptions options, IProgress<CheckProgress>? progress)
{
    private readonly List<CheckProblem> _problems = [];
    private readonly List<SnapshotManifest> _manifests = [];

    public async Task<CheckReport> RunAsync(CancellationToken ct)
    {
        var backend = repo.Backend;
        await foreach (var key in backend.ListAsync(FileKind.Key, ct).ConfigureAwait(false))
        {
            try
            {
                await BackupRepository.ReadKeyFileAsync(backend, key.Name, ct).ConfigureAwait(false);
            }
            catch (CesoException ex)
            {
                Add(CheckSeverity.Error, "KeyDamaged", ex.Message, key.Name);
            }
        }

        var (files, problems) = await repo.ReadIndexFilesAsync(ct).ConfigureAwait(false);
        foreach (var p in problems) Add(CheckSeverity.Error, "IndexDamaged", p, null);
        var superseded = files.SelectMany(f => f.Content.Supersedes).ToHashSet(StringComparer.Ordinal);
        var indexed = new Dictionary<string, IndexedPack>(StringComparer.Ordinal);
        var blobs = new Dictionary<BlobId, string>();
        foreach (var (_, content) in files.Where(f => !superseded.Contains(f.Name)))
        {
            foreach (var pack in content.Packs)
            {
                indexed.TryAdd(pack.Name, pack);
                foreach (var e in pack.Entries) blobs.TryAdd(e.Id, pack.Name);
            }
        }

        var names = await repo.ListSnapshotNamesAsync(ct).ConfigureAwait(false);
        foreach (var name in names)
        {
            try
            {
                _manifests.Add(await repo.LoadManifestAsync(name, ct, fresh: true).ConfigureAwait(false));
            }
            catch (CesoException ex)
            {
                _problems.Add(new CheckProblem(CheckSeverity.Error, "SnapshotDamaged", ex.Message, name, [name], []));
            }
        }

        var missing = new HashSet<BlobId>();
        foreach (var m in _manifests)
        {
            foreach (var hash in Referenced(m))
            {
                var id = repo.Keys.IdOf(hash);
                if (!blobs.ContainsKey(id)) missing.Add(id);
            }
        }

        if (missing.Count > 0) AddForBlobs("BlobMissing", $"{missing.Count} blob(s) referenced by snapshots are in no index", null, missing);

        var present = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var f in backend.ListAsync(FileKind.Pack, ct).ConfigureAwait(false)) present[f.Name] = f.Size;
        foreach (var pack in indexed.Values)
        {
            if (!present.TryGetValue(pack.Name, out var size))
            {
                AddForBlobs("PackMissing", $"pack '{pack.Name}' is in the index but not in the repository", pack.Name, pack.Entries.Select(e => e.Id));
            }
            else if (size != pack.Size)
            {
                AddForBlobs("PackSize", $"pack '{pack.Name}' is {size} bytes; the index says {pack.Size}", pack.Name, pack.Entries.Select(e => e.Id));
            }
        }

        foreach (var name in present.Keys.Where(n => !indexed.ContainsKey(n)))
        {
            Add(CheckSeverity.Warning, "PackUnindexed", $"pack '{name}' is in no index (left by an interrupted backup or prune; prune removes it)", name);
        }

        progress?.Report(new CheckProgress("structure", 1, 1));
        int packsRead = 0;
        long blobsRead = 0;
        if (options.ReadData)
        {
            var selected = indexed.Values.Where(p => present.TryGetValue(p.Name, out var s) && s == p.Size && Selected(p.Name)).ToList();
            foreach (var pack in selected)
            {
                blobsRead += await ReadPackAsync(pack, ct).ConfigureAwait(false);
                packsRead++;
                progress?.Report(new CheckProgress("data", packsRead, selected.Count));
            }
        }

        return new CheckReport(_problems, _manifests.Count, indexed.Count, packsRead, blobsRead);
    }

    private async Task<long> ReadPackAsync(IndexedPack pack, CancellationToken ct)
    {
        var bytes = await SealedFile.LoadAsync(repo.Backend, FileKind.Pack, pack.Name, ct).ConfigureAwait(false);
        var ids = pack.Entries.Select(e => e.Id);
        if (SealedFile.NameOf(bytes) != pack.Name)
        {
            AddForBlobs("PackDamaged", $"pack '{pack.Name}' does not match its name (its SHA-256 differs)", pack.Name, ids);
        }

        try
        {
            var header = PackBuilder.ReadHeader(repo.Keys, bytes, bytes.Length, pack.Name);
            if (!header.OrderBy(e => e.Offset).SequenceEqual(pack.Entries.OrderBy(e => e.Offset)))
            {
                AddForBlobs("PackDamaged", $"pack '{pack.Name}' has a header that differs from the index", pack.Name, ids);
            }
        }
        catch (CesoException ex)
        {
            AddForBlobs("PackDamaged", ex.Message, pack.Name, ids);
        }

        long read = 0;
        var bad = new HashSet<BlobId>();
        foreach (var e in pack.Entries)
        {
            try
            {
                repo.DecodeBlob(bytes.AsSpan((int)e.Offset, (int)e.Length), e.Id, e.Compressed, (int)e.RawLength, pack.Name);
                read++;
            }
            catch (CesoException)
            {
                bad.Add(e.Id);
            }
        }

        if (bad.Count > 0) AddForBlobs("BlobDamaged", $"{bad.Count} blob(s) in pack '{pack.Name}' do not decrypt or hash to their ids", pack.Name, bad);
        return read;
    }

    private bool Selected(string pack)
    {
        var subset = options.ReadDataSubset;
        if (string.IsNullOrEmpty(subset)) return true;
        if (subset.EndsWith('%') && double.TryParse(subset[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var percent))
        {
            return Random.Shared.NextDouble() * 100 < percent;
        }

        var parts = subset.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], out var n) && int.TryParse(parts[1], out var m) && m > 0 && n >= 1 && n <= m)
        {
            return Convert.ToInt32(pack[..2], 16) % m == n - 1;
        }

        throw BackupErrors.Invalid($"'{subset}' is not a subset: use n/m (e.g. 1/5) or a percentage (e.g. 10%).");
    }

    private static IEnumerable<BlockHash> Referenced(SnapshotManifest m) =>
        m.Disks.SelectMany(d => d.Blocks.Select(b => b.Hash)).Concat(m.Files.Select(f => f.Hash));

    /// <summary>A problem with the snapshots and disks that use any of <paramref name="ids"/>.</summary>
    private void AddForBlobs(string code, string message, string? file, IEnumerable<BlobId> ids)
    {
        var set = ids as IReadOnlySet<BlobId> ?? ids.ToHashSet();
        var snapshots = new List<string>();
        var disks = new List<string>();
        foreach (var m in _manifests)
        {
            var hit = false;
            foreach (var d in m.Disks.Where(d => d.Blocks.Any(b => set.Contains(repo.Keys.IdOf(b.Hash)))))
            {
                disks.Add($"{m.Id[..8]}:{d.Name}");
                hit = true;
            }

            foreach (var f in m.Files.Where(f => set.Contains(repo.Keys.IdOf(f.Hash))))
            {
                disks.Add($"{m.Id[..8]}:{f.Name}");
                hit = true;
            }

            if (hit) snapshots.Add(m.Id);
        }

        _problems.Add(new CheckProblem(CheckSeverity.Error, code, message + (snapshots.Count > 0 ? $"; affects {snapshots.Count} snapshot(s)" : ""), file, snapshots, disks));
    }

    private void Add(CheckSeverity severity, string code, string message, string? file) =>
        _problems.Add(new CheckProblem(severity, code, message, file, [], []));
}
