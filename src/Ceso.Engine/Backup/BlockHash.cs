using System.Security.Cryptography;

namespace Ceso.Engine.Backup;

/// <summary>
/// The SHA-256 of one disk block's plaintext, as the host helper and the plain reader compute it. It never leaves
/// Ceso unencrypted: the repository stores it only inside encrypted manifests, and a block's id in the repository is
/// the keyed hash <c>HMAC-SHA256(idKey, BlockHash)</c> (see docs/repository-format.md), so ids confirm no content.
/// A value type of four words: a set of 100 000 of them (a 100 GB disk in 1 MiB blocks) is a few MiB.
/// </summary>
public readonly record struct BlockHash(ulong A, ulong B, ulong C, ulong D)
{
    /// <summary>The length of a hash in bytes.</summary>
    public const int Size = 32;

    /// <summary>The hash from its 32 bytes.</summary>
    public static BlockHash FromBytes(ReadOnlySpan<byte> bytes)
    {
        var (a, b, c, d) = Words256.Read(bytes, "block hash");
        return new(a, b, c, d);
    }

    /// <summary>The SHA-256 of <paramref name="data"/>.</summary>
    public static BlockHash Of(ReadOnlySpan<byte> data)
    {
        Span<byte> h = stackalloc byte[Size];
        SHA256.HashData(data, h);
        return FromBytes(h);
    }

    /// <summary>The hash from 64 hex digits.</summary>
    public static BlockHash Parse(string hex) => FromBytes(Convert.FromHexString(hex));

    /// <summary>Writes the 32 bytes into <paramref name="into"/>.</summary>
    public void WriteTo(Span<byte> into) => Words256.Write(into, A, B, C, D);

    /// <summary>The 32 bytes.</summary>
    public byte[] ToBytes()
    {
        var b = new byte[Size];
        WriteTo(b);
        return b;
    }

    /// <summary>Lowercase hex, 64 digits.</summary>
    public override string ToString() => Convert.ToHexString(ToBytes()).ToLowerInvariant();
}

/// <summary>
/// One non-zero block of a disk as a reader delivers it: its index (offset = <c>Index * blockSize</c>), its hash and —
/// unless the reader was told the repository already holds a block with that hash and skipped sending it — its bytes.
/// All-zero blocks are never delivered: a missing index means zeros. The last block of a disk whose size is not a
/// multiple of the block size is short. <see cref="Data"/> is valid only until the consumer asks for the next block.
/// </summary>
public readonly record struct DiskBlock(long Index, BlockHash Hash, ReadOnlyMemory<byte>? Data);
