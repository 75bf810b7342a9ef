using Ceso.Engine.Formats;

namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>
/// Writes blocks into an existing flat disk on the host for a restore, leaving every region it is not given as it was
/// (in a disk the caller created thin with <c>vmkfstools -c SIZE -d thin</c>: a hole), so a restored thin disk stays
/// thin. Made by <see cref="DiskBlockIo.WriterFor"/>. A write that fails half-way leaves the blocks written so far:
/// restore into a new disk and delete it on failure.
/// </summary>
public interface IDiskBlockWriter
{
    /// <summary>
    /// The path the last <see cref="WriteAsync"/> ran: <see cref="DiskBlockIo.HostHelper"/>, <see cref="DiskBlockIo.DdRuns"/>
    /// or <see cref="DiskBlockIo.WholeFileHttp"/>; empty before the first write.
    /// </summary>
    string PathUsed { get; }

    /// <summary>Why that path was taken.</summary>
    string PathReason { get; }

    /// <summary>
    /// Writes each block at <c>Index * blockSize</c>. Blocks come in strictly increasing index order; each is
    /// <paramref name="blockSize"/> long except the disk's last one, which ends at <paramref name="capacity"/>. An
    /// all-zero block is not written (the region stays a hole). Returns once the host confirmed every block (count and
    /// checksum on the helper path, each dd's exit code on the dd path); else throws a <see cref="CesoException"/>.
    /// </summary>
    /// <param name="flatFile">An existing <c>-flat.vmdk</c> of exactly <paramref name="capacity"/> bytes.</param>
    /// <param name="capacity">The disk's size in bytes.</param>
    /// <param name="blockSize">The block size the blocks were cut with (1 to 64 MiB).</param>
    /// <param name="blocks">The blocks; each <c>Data</c> need be valid only until the next one is asked for.</param>
    /// <param name="progress">Gets the running totals.</param>
    /// <param name="ct">Stops the write and the process on the host.</param>
    Task WriteAsync(DatastorePath flatFile, long capacity, int blockSize, IAsyncEnumerable<(long Index, ReadOnlyMemory<byte> Data)> blocks,
        IProgress<DiskIoProgress>? progress, CancellationToken ct);
}
