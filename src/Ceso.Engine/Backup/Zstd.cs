using ZstdNet;

namespace Ceso.Engine.Backup;

/// <summary>
/// zstd (standard frames, level 3) through ZstdNet's native libzstd, which resolves from bin/runtimes/&lt;rid&gt;/native
/// in Ceso's load context (docs/decisions.md has the measurement against the managed port). One compressor and one
/// decompressor per thread: libzstd contexts are not thread-safe and are costly to create per block.
/// </summary>
internal static class Zstd
{
    public const int Level = 3;

    [ThreadStatic]
    private static Compressor? _compressor;

    [ThreadStatic]
    private static Decompressor? _decompressor;

    /// <summary>The compressed frame, or null when it would not be smaller than <paramref name="data"/> (stored raw then).</summary>
    public static byte[]? TryCompress(ReadOnlySpan<byte> data)
    {
        _compressor ??= new Compressor(new CompressionOptions(Level));
        var bound = Compressor.GetCompressBound(data.Length);
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(bound);
        try
        {
            var n = _compressor.Wrap(data, buffer.AsSpan(0, bound));
            return n < data.Length ? buffer.AsSpan(0, n).ToArray() : null;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Decompresses a frame whose content is exactly <paramref name="rawLength"/> bytes; null when it is not a valid frame of that size.</summary>
    public static byte[]? Decompress(ReadOnlySpan<byte> frame, int rawLength)
    {
        _decompressor ??= new Decompressor();
        var result = new byte[rawLength];
        try
        {
            return _decompressor.Unwrap(frame, result, bufferSizePrecheck: false) == rawLength ? result : null;
        }
        catch (ZstdException)
        {
            return null;
        }
        catch (InsufficientMemoryException)
        {
            return null;
        }
    }

    /// <summary>Decompresses a frame that records its content size (at most <paramref name="maxLength"/>); null when invalid.</summary>
    public static byte[]? Decompress(ReadOnlySpan<byte> frame, long maxLength)
    {
        _decompressor ??= new Decompressor();
        try
        {
            var size = Decompressor.GetDecompressedSize(frame);
            if (size == 0 || size > (ulong)maxLength) return null;
            return Decompress(frame, (int)size);
        }
        catch (ZstdException)
        {
            return null;
        }
    }
}
