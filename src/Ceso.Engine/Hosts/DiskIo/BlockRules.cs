using Ceso.Engine.Formats;

namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>The rules every disk reader and writer checks the same way: arguments, block lengths, zero blocks.</summary>
internal static class BlockRules
{
    /// <summary>The largest block size accepted (a frame's data length is a 32-bit count; a block is held in memory once).</summary>
    public const int MaxBlockSize = 64 << 20;

    public static void CheckArguments(DatastorePath flatFile, long capacity, int blockSize)
    {
        ArgumentNullException.ThrowIfNull(flatFile);
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        if (blockSize <= 0 || blockSize > MaxBlockSize)
        {
            throw new CesoException("InvalidBlockSize", CesoErrorKind.InvalidArgument,
                $"A disk block size must be between 1 byte and {MaxBlockSize >> 20} MiB, not {blockSize}. Use the repository's block size (1 MiB by default).");
        }
    }

    /// <summary>The number of blocks of a disk (the last one may be short).</summary>
    public static long Count(long capacity, int blockSize) => (capacity + blockSize - 1) / blockSize;

    /// <summary>The length of block <paramref name="index"/>: the block size, or what is left of the disk for the last block.</summary>
    public static int Length(long index, long capacity, int blockSize) => (int)Math.Min(blockSize, capacity - index * blockSize);

    /// <summary>Whether every byte is zero (vectorised: a 1 MiB block takes a few microseconds).</summary>
    public static bool IsZero(ReadOnlySpan<byte> data) => !data.ContainsAnyExcept((byte)0);

    /// <summary>Zero blocks so far, from what was scanned and what was delivered.</summary>
    public static long Zeros(long scanned, int blockSize, long sent, long known) => (scanned + blockSize - 1) / blockSize - sent - known;

    public static CesoException SizeMismatch(string host, DatastorePath flatFile, long size, long capacity) =>
        new("DiskSizeMismatch", CesoErrorKind.InvalidArgument,
            $"{flatFile} on {host} has {size} bytes, but the disk's capacity is {capacity}. Give the flat file (-flat.vmdk) of that disk and its capacity from the descriptor.")
        { Host = host, Target = flatFile.ToString() };
}
