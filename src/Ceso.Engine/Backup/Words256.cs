using System.Buffers.Binary;

namespace Ceso.Engine.Backup;

/// <summary>The layout <see cref="BlockHash"/> and <see cref="BlobId"/> share: 32 bytes as four big-endian words.</summary>
internal static class Words256
{
    /// <summary>The four words of 32 bytes; an <see cref="ArgumentException"/> naming <paramref name="what"/> for another length.</summary>
    public static (ulong A, ulong B, ulong C, ulong D) Read(ReadOnlySpan<byte> bytes, string what)
    {
        if (bytes.Length != 32)
        {
            throw new ArgumentException($"A {what} is 32 bytes, not {bytes.Length}.", nameof(bytes));
        }

        return (BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]), BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]));
    }

    /// <summary>Writes the four words into the first 32 bytes of <paramref name="into"/>.</summary>
    public static void Write(Span<byte> into, ulong a, ulong b, ulong c, ulong d)
    {
        BinaryPrimitives.WriteUInt64BigEndian(into, a);
        BinaryPrimitives.WriteUInt64BigEndian(into[8..], b);
        BinaryPrimitives.WriteUInt64BigEndian(into[16..], c);
        BinaryPrimitives.WriteUInt64BigEndian(into[24..], d);
    }
}
