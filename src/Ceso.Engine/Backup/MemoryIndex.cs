using System.Runtime.InteropServices;

namespace Ceso.Engine.Backup;

/// <summary>One blob's place in the in-memory index: 48 bytes (restic's map costs ~350 B per blob).</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct IndexEntry(BlobId Id, int Pack, uint Offset, uint Length, uint RawAndFlag)
{
    private const uint CompressedBit = 1u << 31;

    public static IndexEntry Of(PackEntry e, int pack) =>
        new(e.Id, pack, e.Offset, e.Length, e.RawLength | (e.Compressed ? CompressedBit : 0));

    public bool Compressed => (RawAndFlag & CompressedBit) != 0;

    public int RawLength => (int)(RawAndFlag & ~CompressedBit);
}

/// <summary>
/// The merged index of a repository: one array of <see cref="IndexEntry"/> sorted by id (binary search), and the
/// pack names by ordinal. Immutable: a commit builds a new one by merging (copy-on-write), so readers need no lock.
/// A blob in several packs (two concurrent backups, an interrupted prune) keeps one entry, the first seen.
/// </summary>
internal sealed class MemoryIndex
{
    private readonly IndexEntry[] _entries;
    private readonly string[] _packs;

    private MemoryIndex(IndexEntry[] entries, string[] packs, IReadOnlyList<string> files)
    {
        _entries = entries;
        _packs = packs;
        Files = files;
    }

    public static readonly MemoryIndex Empty = new([], [], []);

    /// <summary>The index files this index was read from (and written by commits since).</summary>
    public IReadOnlyList<string> Files { get; }

    public int Count => _entries.Length;

    public IReadOnlyList<string> Packs => _packs;

    public ReadOnlySpan<IndexEntry> Entries => _entries;

    public string PackName(int ordinal) => _packs[ordinal];

    public bool TryGet(BlobId id, out IndexEntry entry)
    {
        int lo = 0, hi = _entries.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var c = _entries[mid].Id.CompareTo(id);
            if (c == 0)
            {
                entry = _entries[mid];
                return true;
            }

            if (c < 0) lo = mid + 1;
            else hi = mid - 1;
        }

        entry = default;
        return false;
    }

    public bool Contains(BlobId id) => TryGet(id, out _);

    /// <summary>An index of the given files' contents (superseded files already left out by the caller).</summary>
    public static MemoryIndex Build(IEnumerable<(string File, IndexFile Content)> files) =>
        Empty.Merge(files.SelectMany(f => f.Content.Packs), files.Select(f => f.File));

    /// <summary>This index with more packs' entries and index file names added.</summary>
    public MemoryIndex Merge(IEnumerable<IndexedPack> packs, IEnumerable<string> files)
    {
        var names = new List<string>(_packs);
        var ordinals = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++) ordinals[names[i]] = i;
        var added = new List<IndexEntry>();
        foreach (var (pack, _, entries) in packs)
        {
            if (!ordinals.TryGetValue(pack, out var ordinal))
            {
                ordinal = names.Count;
                ordinals[pack] = ordinal;
                names.Add(pack);
            }

            foreach (var e in entries) added.Add(IndexEntry.Of(e, ordinal));
        }

        var fresh = added.ToArray();
        Array.Sort(fresh, static (x, y) => x.Id.CompareTo(y.Id));
        var merged = new IndexEntry[_entries.Length + fresh.Length];
        int a = 0, b = 0, n = 0;
        while (a < _entries.Length || b < fresh.Length)
        {
            var next = b >= fresh.Length || (a < _entries.Length && _entries[a].Id.CompareTo(fresh[b].Id) <= 0) ? _entries[a++] : fresh[b++];
            if (n > 0 && merged[n - 1].Id == next.Id) continue;
            merged[n++] = next;
        }

        Array.Resize(ref merged, n);
        return new MemoryIndex(merged, names.ToArray(), [.. Files, .. files]);
    }
}
