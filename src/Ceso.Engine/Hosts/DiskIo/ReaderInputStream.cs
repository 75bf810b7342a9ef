using Ceso.Engine.Backup;

namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>
/// The reader helper's stdin, produced as the ssh process pulls it: the preamble (script and parameters), then the
/// known hashes, 32 bytes each, straight from the set (a million of them are never copied into one buffer).
/// </summary>
internal sealed class ReaderInputStream(byte[] preamble, IReadOnlySet<BlockHash> known) : ReadOnlyTransferStream
{
    private readonly IEnumerator<BlockHash> _hashes = known.GetEnumerator();
    private readonly byte[] _hash = new byte[BlockHash.Size];
    private int _preambleAt;
    private int _hashAt = BlockHash.Size;
    private bool _done;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var span = buffer.Span;
        var n = 0;
        if (_preambleAt < preamble.Length)
        {
            n = Math.Min(span.Length, preamble.Length - _preambleAt);
            preamble.AsSpan(_preambleAt, n).CopyTo(span);
            _preambleAt += n;
        }

        while (n < span.Length && !_done)
        {
            if (_hashAt == BlockHash.Size)
            {
                if (!_hashes.MoveNext())
                {
                    _done = true;
                    break;
                }

                _hashes.Current.WriteTo(_hash);
                _hashAt = 0;
            }

            var k = Math.Min(span.Length - n, BlockHash.Size - _hashAt);
            _hash.AsSpan(_hashAt, k).CopyTo(span[n..]);
            _hashAt += k;
            n += k;
        }

        return ValueTask.FromResult(n);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hashes.Dispose();
        }

        base.Dispose(disposing);
    }
}
