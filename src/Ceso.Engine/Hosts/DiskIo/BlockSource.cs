namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>
/// The blocks a writer is given, checked as they are pulled: strictly increasing indexes inside the disk, each of
/// its block's length; all-zero blocks are passed over (their region stays a hole). One block is looked at ahead
/// (<see cref="PeekAsync"/>) so that the dd path can end a run where the next block is not adjacent.
/// </summary>
internal sealed class BlockSource(IAsyncEnumerable<(long Index, ReadOnlyMemory<byte> Data)> blocks, long capacity, int blockSize, string host, CancellationToken ct)
    : IAsyncDisposable
{
    private readonly IAsyncEnumerator<(long Index, ReadOnlyMemory<byte> Data)> _e = blocks.GetAsyncEnumerator(ct);
    private (long Index, ReadOnlyMemory<byte> Data)? _peeked;
    private bool _ended;
    private long _next;

    /// <summary>Whether any block was asked for (a fallback is only safe before that).</summary>
    public bool Started { get; private set; }

    /// <summary>Blocks handed out.</summary>
    public long Blocks { get; private set; }

    /// <summary>Bytes of the blocks handed out.</summary>
    public long Bytes { get; private set; }

    /// <summary>The end of the last block handed out (for progress).</summary>
    public long Reached { get; private set; }

    /// <summary>The next non-zero block without taking it; null at the end.</summary>
    public async ValueTask<(long Index, ReadOnlyMemory<byte> Data)?> PeekAsync()
    {
        Started = true;
        while (_peeked is null && !_ended)
        {
            if (!await _e.MoveNextAsync().ConfigureAwait(false))
            {
                _ended = true;
                break;
            }

            var (index, data) = _e.Current;
            if (index < _next || index >= BlockRules.Count(capacity, blockSize) || data.Length != BlockRules.Length(index, capacity, blockSize))
            {
                throw new CesoException("InvalidDiskBlock", CesoErrorKind.InvalidArgument,
                    $"Block {index} of {data.Length} bytes cannot be written to a disk of {capacity} bytes in blocks of {blockSize} after block {_next - 1}: " +
                    "blocks must come in increasing order, each of its block's length. This is a bug in the caller.") { Host = host };
            }

            _next = index + 1;
            if (!BlockRules.IsZero(data.Span))
            {
                _peeked = (index, data);
            }
        }

        return _peeked;
    }

    /// <summary>Takes the block <see cref="PeekAsync"/> returned; its data is valid until the next peek.</summary>
    public (long Index, ReadOnlyMemory<byte> Data) Take()
    {
        var b = _peeked ?? throw new InvalidOperationException("Take without a block from PeekAsync.");
        _peeked = null;
        Blocks++;
        Bytes += b.Data.Length;
        Reached = b.Index * blockSize + b.Data.Length;
        return b;
    }

    /// <summary>Progress after <see cref="Take"/>s, with the bytes sent so far.</summary>
    public DiskIoProgress Progress(long wire) => new(Reached, wire, 0, 0, Blocks);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _e.DisposeAsync();
}
