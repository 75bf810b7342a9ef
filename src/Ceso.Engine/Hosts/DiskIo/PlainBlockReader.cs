using System.Buffers;
using System.Runtime.CompilerServices;
using Ceso.Engine.Backup;
using Ceso.Engine.Formats;

namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>
/// The plain-stream path of a disk read, for hosts where no helper runs (no python, or an API-only session): the
/// whole flat file through <see cref="IHostFiles.OpenReadAsync"/> (datastore HTTP or <c>cat</c> over SSH), cut into
/// blocks, checked for zeros and hashed here. Every byte of the disk crosses the wire, holes included, and is counted
/// as such; known blocks are still delivered without data so that the consumer stores nothing twice.
/// </summary>
internal sealed class PlainBlockReader(IHostFiles files, string host)
{
    public async IAsyncEnumerable<DiskBlock> ReadAsync(DatastorePath flatFile, long capacity, int blockSize, IReadOnlySet<BlockHash> known,
        IProgress<DiskIoProgress>? progress, [EnumeratorCancellation] CancellationToken ct)
    {
        BlockRules.CheckArguments(flatFile, capacity, blockSize);
        ArgumentNullException.ThrowIfNull(known);
        var size = (await files.StatAsync(flatFile, ct).ConfigureAwait(false)).Size;
        if (size != capacity)
        {
            throw BlockRules.SizeMismatch(host, flatFile, size, capacity);
        }

        await using var stream = await files.OpenReadAsync(flatFile, 0, capacity, ct).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(blockSize);
        long sent = 0, knownCount = 0;
        try
        {
            var blocks = BlockRules.Count(capacity, blockSize);
            for (long index = 0; index < blocks; index++)
            {
                var length = BlockRules.Length(index, capacity, blockSize);
                var memory = buffer.AsMemory(0, length);
                await FillAsync(stream, memory, flatFile, index * blockSize, ct).ConfigureAwait(false);
                var scanned = index * blockSize + length;
                DiskBlock? block = null;
                if (!BlockRules.IsZero(memory.Span))
                {
                    var hash = BlockHash.Of(memory.Span);
                    if (known.Contains(hash))
                    {
                        knownCount++;
                        block = new DiskBlock(index, hash, null);
                    }
                    else
                    {
                        sent++;
                        block = new DiskBlock(index, hash, memory);
                    }
                }

                progress?.Report(new DiskIoProgress(scanned, scanned, BlockRules.Zeros(scanned, blockSize, sent, knownCount), knownCount, sent));
                if (block is { } b)
                {
                    yield return b;
                }
            }

            await EnsureEndAsync(stream, flatFile, capacity, ct).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task FillAsync(Stream stream, Memory<byte> into, DatastorePath flatFile, long offset, CancellationToken ct)
    {
        int n;
        try
        {
            n = await stream.ReadAtLeastAsync(into, into.Length, throwOnEndOfStream: false, ct).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw Incomplete(flatFile, offset, e);
        }

        if (n != into.Length)
        {
            throw Incomplete(flatFile, offset + n, null);
        }
    }

    private async Task EnsureEndAsync(Stream stream, DatastorePath flatFile, long capacity, CancellationToken ct)
    {
        var one = new byte[1];
        int n;
        try
        {
            n = await stream.ReadAsync(one, ct).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw Incomplete(flatFile, capacity, e);
        }

        if (n != 0)
        {
            throw new CesoException("DiskSizeMismatch", CesoErrorKind.HostError,
                $"{flatFile} on {host} gave more than its {capacity} bytes while it was read; it changed during the read. Read it again from a snapshot.")
            { Host = host, Target = flatFile.ToString() };
        }
    }

    private CesoException Incomplete(DatastorePath flatFile, long at, Exception? inner) =>
        new("DiskStreamIncomplete", CesoErrorKind.Connection,
            $"The read of {flatFile} on {host} ended at byte {at}, before the end of the disk{(inner is null ? "" : ": " + inner.Message)}. Nothing was lost on the host; run the backup again.", inner)
        { Host = host, Target = flatFile.ToString() };
}
