using System.Buffers.Binary;

namespace Ceso.Engine.Backup;

/// <summary>Where one blob is inside a pack, as pack headers and index files record it.</summary>
/// <param name="Id">The blob id.</param>
/// <param name="Compressed">True when the stored plaintext is a zstd frame.</param>
/// <param name="Offset">Byte offset of the sealed blob in the pack.</param>
/// <param name="Length">Length of the sealed blob in the pack.</param>
/// <param name="RawLength">Length of the blob's plaintext (after decompression).</param>
internal readonly record struct PackEntry(BlobId Id, bool Compressed, uint Offset, uint Length, uint RawLength)
{
    public const int EncodedSize = BlobId.Size + 1 + 12;

    public void WriteTo(Span<byte> into)
    {
        Id.WriteTo(into);
        into[32] = Compressed ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32LittleEndian(into[33..], Offset);
        BinaryPrimitives.WriteUInt32LittleEndian(into[37..], Length);
        BinaryPrimitives.WriteUInt32LittleEndian(into[41..], RawLength);
    }

    public static PackEntry ReadFrom(ReadOnlySpan<byte> from) => new(BlobId.FromBytes(from[..32]), from[32] == 1,
        BinaryPrimitives.ReadUInt32LittleEndian(from[33..]), BinaryPrimitives.ReadUInt32LittleEndian(from[37..]),
        BinaryPrimitives.ReadUInt32LittleEndian(from[41..]));

    /// <summary>Flags other than 0 and 1 are damage, not a newer format.</summary>
    public static bool ValidFlags(ReadOnlySpan<byte> from) => from[32] <= 1;
}

/// <summary>
/// Builds one pack file in memory: sealed blobs back to back, then the sealed header (<c>version u8 | entries</c>,
/// purpose <c>ceso:pack-header</c>), then the sealed header's length as u32 little-endian. The name is the SHA-256 of
/// the whole file.
/// </summary>
internal sealed class PackBuilder
{
    public const string HeaderPurpose = "ceso:pack-header";
    private readonly MemoryStream _data = new();
    private readonly List<PackEntry> _entries = [];

    public long Size => _data.Length;

    public int Count => _entries.Count;

    public void Add(BlobId id, bool compressed, ReadOnlySpan<byte> sealedBlob, int rawLength)
    {
        _entries.Add(new PackEntry(id, compressed, checked((uint)_data.Length), (uint)sealedBlob.Length, (uint)rawLength));
        _data.Write(sealedBlob);
    }

    public (string Name, byte[] Bytes, IReadOnlyList<PackEntry> Entries) Finish(RepositoryKeys keys)
    {
        var header = new byte[1 + _entries.Count * PackEntry.EncodedSize];
        header[0] = 1;
        for (var i = 0; i < _entries.Count; i++)
        {
            _entries[i].WriteTo(header.AsSpan(1 + i * PackEntry.EncodedSize));
        }

        var sealedHeader = keys.SealFile(header, HeaderPurpose);
        _data.Write(sealedHeader);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)sealedHeader.Length);
        _data.Write(length);
        var bytes = _data.ToArray();
        return (SealedFile.NameOf(bytes), bytes, _entries.ToArray());
    }

    /// <summary>Reads the header of a pack from its tail (the whole file or its last bytes, with the file's size).</summary>
    public static IReadOnlyList<PackEntry> ReadHeader(RepositoryKeys keys, ReadOnlySpan<byte> tail, long packSize, string name)
    {
        var what = $"pack '{name}'";
        if (tail.Length < 4) throw BackupErrors.Corrupt(what, "is too short for a header");
        var length = BinaryPrimitives.ReadUInt32LittleEndian(tail[^4..]);
        if (length + 4L > tail.Length || length + 4L > packSize) throw BackupErrors.Corrupt(what, "has a header length past its start");
        var header = keys.OpenFile(tail[^(int)(length + 4)..^4], HeaderPurpose)
            ?? throw BackupErrors.Corrupt(what, "has a header that does not authenticate");
        if (header.Length == 0 || header[0] != 1 || (header.Length - 1) % PackEntry.EncodedSize != 0)
        {
            throw BackupErrors.Corrupt(what, "has a header of an unknown layout");
        }

        var entries = new PackEntry[(header.Length - 1) / PackEntry.EncodedSize];
        var dataEnd = packSize - length - 4;
        for (var i = 0; i < entries.Length; i++)
        {
            var slice = header.AsSpan(1 + i * PackEntry.EncodedSize, PackEntry.EncodedSize);
            entries[i] = PackEntry.ReadFrom(slice);
            if (!PackEntry.ValidFlags(slice) || entries[i].Offset + (long)entries[i].Length > dataEnd)
            {
                throw BackupErrors.Corrupt(what, $"has a header entry {i} outside its data");
            }
        }

        return entries;
    }
}
