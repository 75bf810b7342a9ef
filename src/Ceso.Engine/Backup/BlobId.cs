using System.Security.Cryptography;

namespace Ceso.Engine.Backup;

/// <summary>
/// A blob's id in a repository: <c>HMAC-SHA256(idKey, BlockHash)</c>, the keyed hash of the SHA-256 of the blob's
/// plaintext. Without the id key an id confirms nothing about the content; with it, an id is verified after every read.
/// </summary>
public readonly record struct BlobId(ulong A, ulong B, ulong C, ulong D) : IComparable<BlobId>
{
    /// <summary>The length of an id in bytes.</summary>
    public const int Size = 32;

    /// <summary>The id from its 32 bytes.</summary>
    public static BlobId FromBytes(ReadOnlySpan<byte> bytes)
    {
        var (a, b, c, d) = Words256.Read(bytes, "blob id");
        return new(a, b, c, d);
    }

    /// <summary>The id of a block with hash <paramref name="hash"/> under <paramref name="idKey"/>.</summary>
    public static BlobId Compute(ReadOnlySpan<byte> idKey, BlockHash hash)
    {
        Span<byte> h = stackalloc byte[BlockHash.Size];
        hash.WriteTo(h);
        Span<byte> mac = stackalloc byte[Size];
        HMACSHA256.HashData(idKey, h, mac);
        return FromBytes(mac);
    }

    /// <summary>The id from 64 hex digits.</summary>
    public static BlobId Parse(string hex) => FromBytes(Convert.FromHexString(hex));

    /// <summary>Writes the 32 bytes into <paramref name="into"/>.</summary>
    public void WriteTo(Span<byte> into) => Words256.Write(into, A, B, C, D);

    /// <summary>The 32 bytes.</summary>
    public byte[] ToBytes()
    {
        var b = new byte[Size];
        WriteTo(b);
        return b;
    }

    /// <summary>Orders ids as their bytes compare (big-endian words), the order of index files and the in-memory index.</summary>
    public int CompareTo(BlobId other)
    {
        var c = A.CompareTo(other.A);
        if (c != 0) return c;
        c = B.CompareTo(other.B);
        if (c != 0) return c;
        c = C.CompareTo(other.C);
        return c != 0 ? c : D.CompareTo(other.D);
    }

    /// <summary>Lowercase hex, 64 digits.</summary>
    public override string ToString() => Convert.ToHexString(ToBytes()).ToLowerInvariant();
}
