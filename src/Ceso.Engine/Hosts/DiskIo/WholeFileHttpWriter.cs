using Ceso.Engine.Formats;

namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>
/// The write path of an API-only session, taken only when the caller allowed it: hostd's datastore HTTP can only PUT
/// a whole file, so the flat file is uploaded in full — the blocks at their offsets and zeros in between — through
/// <see cref="IHostFiles.WriteAsync"/> (a temporary name renamed over the disk once complete). The bytes are right,
/// but the disk is no longer thin (VMFS allocates the zeros it is sent) and the whole capacity crosses the wire.
/// </summary>
internal sealed class WholeFileHttpWriter(IHostFiles files, string host) : IDiskBlockWriter
{
    /// <inheritdoc />
    public string PathUsed { get; private set; } = "";

    /// <inheritdoc />
    public string PathReason { get; private set; } = "";

    /// <inheritdoc />
    public async Task WriteAsync(DatastorePath flatFile, long capacity, int blockSize, IAsyncEnumerable<(long Index, ReadOnlyMemory<byte> Data)> blocks,
        IProgress<DiskIoProgress>? progress, CancellationToken ct)
    {
        BlockRules.CheckArguments(flatFile, capacity, blockSize);
        ArgumentNullException.ThrowIfNull(blocks);
        (PathUsed, PathReason) = (DiskBlockIo.WholeFileHttp, "the session has no SSH: the whole disk is uploaded through datastore HTTP (not thin)");
        var size = (await files.StatAsync(flatFile, ct).ConfigureAwait(false)).Size;
        if (size != capacity)
        {
            throw BlockRules.SizeMismatch(host, flatFile, size, capacity);
        }

        await using var source = new BlockSource(blocks, capacity, blockSize, host, ct);
        var whole = new WholeFileStream(source, capacity, blockSize);
        await files.WriteAsync(flatFile, whole, capacity, new Progress(source, progress), ct).ConfigureAwait(false);
    }

    private sealed class Progress(BlockSource source, IProgress<DiskIoProgress>? progress) : IProgress<long>
    {
        public void Report(long value) => progress?.Report(source.Progress(value) with { BytesScanned = value });
    }

    // The flat file as one stream: each block's bytes at its offset, zeros where no block is.
    private sealed class WholeFileStream(BlockSource source, long capacity, int blockSize) : ReadOnlyTransferStream
    {
        private long _at;
        private ReadOnlyMemory<byte> _block;
        private long _blockAt = -1;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_at >= capacity || buffer.Length == 0)
            {
                return 0;
            }

            if (_blockAt < 0 || _at >= _blockAt + _block.Length)
            {
                if (await source.PeekAsync().ConfigureAwait(false) is { } next)
                {
                    var b = source.Take();
                    (_blockAt, _block) = (b.Index * blockSize, b.Data);
                }
                else
                {
                    (_blockAt, _block) = (capacity, ReadOnlyMemory<byte>.Empty);
                }
            }

            int n;
            if (_at < _blockAt)
            {
                n = (int)Math.Min(buffer.Length, _blockAt - _at);
                buffer.Span[..n].Clear();
            }
            else
            {
                var from = (int)(_at - _blockAt);
                n = Math.Min(buffer.Length, _block.Length - from);
                _block.Slice(from, n).CopyTo(buffer);
            }

            _at += n;
            return n;
        }
    }
}
