using System.Buffers.Binary;
using System.IO.Hashing;

namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>
/// The writer helper's stdin, produced as the ssh process pulls it: the preamble, then a B frame per block and the E
/// frame. Keeps the SHA-256 over what it sent, which the helper's trailer must match. It does not wait for the
/// helper's hello before the first block: the ssh process's stdout only ends after its stdin has, so a wait for a
/// hello that never comes would never end; whether python runs is asked beforehand (<see cref="HostPython.ProbeAsync"/>).
/// </summary>
internal sealed class WriterInputStream(byte[] preamble, BlockSource source, IProgress<DiskIoProgress>? progress) : ReadOnlyTransferStream
{
    private readonly Crc32 _digest = new();
    private readonly byte[] _head = new byte[1 + 12];
    private ReadOnlyMemory<byte> _pending = preamble;
    private ReadOnlyMemory<byte> _then;
    private bool _ended;
    private long _wire;

    /// <summary>The CRC-32 (big-endian, as zlib.crc32 gives it) of every B frame's index, length and data sent (valid after the E frame).</summary>
    public byte[] Digest()
    {
        var d = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(d, _digest.GetCurrentHashAsUInt32());
        return d;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = 0;
        while (n < buffer.Length)
        {
            if (_pending.Length > 0)
            {
                var k = Math.Min(_pending.Length, buffer.Length - n);
                _pending[..k].CopyTo(buffer[n..]);
                _pending = _pending[k..];
                n += k;
                _wire += k;
                if (_pending.Length == 0)
                {
                    (_pending, _then) = (_then, ReadOnlyMemory<byte>.Empty);
                }

                continue;
            }

            if (n > 0 || _ended)
            {
                break; // hand over what is there before waiting for the next block
            }

            await NextFrameAsync().ConfigureAwait(false);
        }

        return n;
    }

    private async Task NextFrameAsync()
    {
        if (source.Blocks > 0)
        {
            progress?.Report(source.Progress(_wire));
        }

        if (await source.PeekAsync().ConfigureAwait(false) is null)
        {
            _head[0] = HelperFrames.End;
            BinaryPrimitives.WriteInt64BigEndian(_head.AsSpan(1), source.Blocks);
            _pending = _head.AsMemory(0, 9);
            _ended = true;
            return;
        }

        var (index, data) = source.Take();
        _head[0] = HelperFrames.Block;
        BinaryPrimitives.WriteInt64BigEndian(_head.AsSpan(1), index);
        BinaryPrimitives.WriteInt32BigEndian(_head.AsSpan(9), data.Length);
        _digest.Append(_head.AsSpan(1, 12));
        _digest.Append(data.Span);
        // the header first, then the block's bytes straight from the caller's memory
        _pending = _head.AsMemory(0, 13);
        _then = data;
    }

}
