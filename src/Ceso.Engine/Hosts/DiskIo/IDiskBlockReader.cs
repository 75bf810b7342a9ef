using Ceso.Engine.Backup;
using Ceso.Engine.Formats;

namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>
/// Reads a VM's flat disk on the host block by block for a backup. Made by <see cref="DiskBlockIo.ReaderFor"/>, which
/// picks the path: the host helper (a stdlib-only Python script run by the host's own interpreter, which skips holes
/// and all-zero blocks and hashes on the host, so only new blocks cross the wire) or the plain stream (the whole flat
/// file through <see cref="IHostFiles.OpenReadAsync"/>, cut, checked and hashed here).
/// </summary>
public interface IDiskBlockReader
{
    /// <summary>
    /// The path the last <see cref="ReadAsync"/> ran: <see cref="DiskBlockIo.HostHelper"/> or
    /// <see cref="DiskBlockIo.PlainStream"/>; empty before the first read. Set once reading has started.
    /// </summary>
    string PathUsed { get; }

    /// <summary>Why that path was taken ("python on the host runs the helper", "python: not found (exit 127)", …).</summary>
    string PathReason { get; }

    /// <summary>
    /// Every non-zero block of <paramref name="flatFile"/> in index order: block <c>i</c> is the bytes
    /// <c>[i * blockSize, min((i + 1) * blockSize, capacity))</c> (the last one may be short). All-zero blocks are not
    /// yielded. A block whose hash is in <paramref name="known"/> comes with <see cref="DiskBlock.Data"/> null (the
    /// repository holds it already); every other block carries its bytes, valid until the next one is asked for.
    /// The sequence either ends after the last block of the disk or throws (a <see cref="CesoException"/> when the
    /// stream from the host ended early or the connection dropped): it never ends quietly short.
    /// </summary>
    /// <param name="flatFile">The <c>-flat.vmdk</c> (the data extent), not the descriptor.</param>
    /// <param name="capacity">The disk's size in bytes; the flat file must have exactly this size (<c>DiskSizeMismatch</c>).</param>
    /// <param name="blockSize">The block size in bytes (1 to 64 MiB).</param>
    /// <param name="known">Hashes the consumer already stores.</param>
    /// <param name="progress">Gets the running totals, after each block and while holes are skipped.</param>
    /// <param name="ct">Stops the read and the process on the host.</param>
    IAsyncEnumerable<DiskBlock> ReadAsync(DatastorePath flatFile, long capacity, int blockSize, IReadOnlySet<BlockHash> known,
        IProgress<DiskIoProgress>? progress, CancellationToken ct);
}

/// <summary>Running totals of a disk read or write.</summary>
/// <param name="BytesScanned">Bytes of the disk gone through so far (holes and zero blocks included; for a write, the offset reached).</param>
/// <param name="WireBytes">Bytes that crossed the wire so far: received for a read (frames and headers included), sent for a write.</param>
/// <param name="ZeroBlocks">All-zero blocks seen and not delivered (holes included).</param>
/// <param name="KnownBlocks">Blocks whose hash was known, delivered without data.</param>
/// <param name="BlocksSent">Blocks delivered with their data (for a write: blocks written).</param>
public readonly record struct DiskIoProgress(long BytesScanned, long WireBytes, long ZeroBlocks, long KnownBlocks, long BlocksSent);
