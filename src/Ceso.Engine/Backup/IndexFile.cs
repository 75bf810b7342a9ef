using System.Buffers.Binary;

namespace Ceso.Engine.Backup;

/// <summary>
/// One index file's content: for each pack, the blobs it holds; and the index files this one supersedes (written by
/// prune, so a reader that still sees a superseded file ignores it). Payload layout (little-endian):
/// <c>version u8 = 1 | supersededCount u32 | superseded names (32 bytes each) | packCount u32 |
/// per pack: name (32 bytes) | pack size u64 | entryCount u32 | entries (<see cref="PackEntry.EncodedSize"/> bytes each)</c>.
/// </summary>
internal sealed record IndexFile(IReadOnlyList<string> Supersedes, IReadOnlyList<IndexedPack> Packs)
{
    public const string Purpose = "ceso:index";

    public byte[] Encode()
    {
        var size = 1 + 4 + 32 * Supersedes.Count + 4 + Packs.Sum(p => 44 + p.Entries.Count * PackEntry.EncodedSize);
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        span[0] = 1;
        var at = 1;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], Supersedes.Count);
        at += 4;
        foreach (var name in Supersedes)
        {
            Convert.FromHexString(name).CopyTo(span[at..]);
            at += 32;
        }

        BinaryPrimitives.WriteInt32LittleEndian(span[at..], Packs.Count);
        at += 4;
        foreach (var (pack, packSize, entries) in Packs)
        {
            Convert.FromHexString(pack).CopyTo(span[at..]);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 32)..], packSize);
            BinaryPrimitives.WriteInt32LittleEndian(span[(at + 40)..], entries.Count);
            at += 44;
            foreach (var e in entries)
            {
                e.WriteTo(span[at..]);
                at += PackEntry.EncodedSize;
            }
        }

        return bytes;
    }

    public static IndexFile Decode(ReadOnlySpan<byte> payload, string name)
    {
        var what = $"index file '{name}'";
        try
        {
            if (payload[0] != 1) throw BackupErrors.Corrupt(what, $"has an unknown version {payload[0]}");
            var at = 1;
            var superseded = new List<string>();
            var count = ReadCount(payload, ref at, 32);
            for (var i = 0; i < count; i++, at += 32)
            {
                superseded.Add(Convert.ToHexString(payload.Slice(at, 32)).ToLowerInvariant());
            }

            var packs = new List<IndexedPack>();
            var packCount = ReadCount(payload, ref at, 44);
            for (var p = 0; p < packCount; p++)
            {
                var pack = Convert.ToHexString(payload.Slice(at, 32)).ToLowerInvariant();
                var packSize = BinaryPrimitives.ReadInt64LittleEndian(payload[(at + 32)..]);
                at += 40;
                if (packSize < 4) throw BackupErrors.Corrupt(what, $"gives pack '{pack}' an impossible size {packSize}");
                var n = ReadCount(payload, ref at, PackEntry.EncodedSize);
                var entries = new PackEntry[n];
                for (var i = 0; i < n; i++, at += PackEntry.EncodedSize)
                {
                    if (!PackEntry.ValidFlags(payload[at..])) throw BackupErrors.Corrupt(what, "has an entry with unknown flags");
                    entries[i] = PackEntry.ReadFrom(payload[at..]);
                }

                packs.Add(new IndexedPack(pack, packSize, entries));
            }

            if (at != payload.Length) throw BackupErrors.Corrupt(what, "has bytes after its last pack");
            return new IndexFile(superseded, packs);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw BackupErrors.Corrupt(what, "ends early", ex);
        }
    }

    private static int ReadCount(ReadOnlySpan<byte> payload, ref int at, int itemSize)
    {
        var n = BinaryPrimitives.ReadInt32LittleEndian(payload[at..]);
        at += 4;
        if (n < 0 || (long)n * itemSize > payload.Length - at) throw new ArgumentOutOfRangeException(nameof(payload));
        return n;
    }
}

/// <summary>A pack as an index file lists it: its name, its size in bytes and its blobs.</summary>
internal sealed record IndexedPack(string Name, long Size, IReadOnlyList<PackEntry> Entries);
