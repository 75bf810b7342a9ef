using System.Buffers;
using System.Threading.Channels;

namespace Ceso.Engine.Hosts;

/// <summary>
/// A bounded in-process pipe between a producer that pushes bytes (SshSession.StreamAsync writing a remote command's
/// stdout) and a consumer that pulls them (the caller reading <see cref="IHostFiles.OpenReadAsync"/>'s stream).
/// At most <c>capacity</c> chunks are held; a full pipe makes the producer wait, so a slow reader slows the host
/// instead of filling memory. The producer ends it with <see cref="Complete"/>; an error passed there is thrown by
/// the consumer's next read, after the bytes before it.
/// </summary>
internal sealed class ChunkPipe(int capacity = 8)
{
    private readonly Channel<(byte[] Buffer, int Count)> _chunks = Channel.CreateBounded<(byte[], int)>(
        new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });

    private byte[]? _current;
    private int _offset;
    private int _count;

    /// <summary>Copies <paramref name="data"/> into the pipe, waiting while it is full.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(data.Length);
        data.CopyTo(buffer);
        try
        {
            await _chunks.Writer.WriteAsync((buffer, data.Length), ct).ConfigureAwait(false);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>Ends the data; with an error, the reader throws it once it has read what came before.</summary>
    public void Complete(Exception? error = null) => _chunks.Writer.TryComplete(error);

    /// <summary>Reads what is there (waiting for the next chunk); 0 at the end; throws the producer's error.</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> into, CancellationToken ct)
    {
        while (_current is null)
        {
            if (_chunks.Reader.TryRead(out var chunk))
            {
                (_current, _offset, _count) = (chunk.Buffer, 0, chunk.Count);
                break;
            }

            if (!await _chunks.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                await _chunks.Reader.Completion.ConfigureAwait(false); // rethrows the producer's error
                return 0;
            }
        }

        var n = Math.Min(into.Length, _count - _offset);
        _current.AsMemory(_offset, n).CopyTo(into);
        _offset += n;
        if (_offset == _count)
        {
            ArrayPool<byte>.Shared.Return(_current);
            _current = null;
        }

        return n;
    }

    /// <summary>Returns the buffers still queued to the pool (after the consumer has stopped).</summary>
    public void Drain()
    {
        if (_current is not null)
        {
            ArrayPool<byte>.Shared.Return(_current);
            _current = null;
        }

        while (_chunks.Reader.TryRead(out var chunk))
        {
            ArrayPool<byte>.Shared.Return(chunk.Buffer);
        }
    }

    /// <summary>A write-only stream onto the pipe, for producers that take a <see cref="Stream"/>.</summary>
    public Stream AsWriteStream() => new WriteEnd(this);

    private sealed class WriteEnd(ChunkPipe pipe) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => pipe.WriteAsync(buffer.AsMemory(offset, count), default).AsTask().GetAwaiter().GetResult();
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => pipe.WriteAsync(buffer, cancellationToken);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}

/// <summary>
/// Base of the read-only, forward-only streams of host transfers: one method to write (<see cref="ReadAsync(Memory{byte}, CancellationToken)"/>),
/// the rest of Stream's surface answered here once.
/// </summary>
internal abstract class ReadOnlyTransferStream : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>
/// The read stream of a host file transfer: bytes from a producer task, exactly <c>expected</c> of them. Ending short
/// is an <see cref="IOException"/>, never a quiet end of data. Disposing before the end cancels the producer (which
/// stops the remote command) and waits for it.
/// </summary>
internal sealed class TransferReadStream : ReadOnlyTransferStream
{
    private readonly ChunkPipe _pipe;
    private readonly CancellationTokenSource _stop;
    private readonly Task _producer;
    private readonly long _expected;
    private readonly string _what;
    private long _read;
    private bool _disposed;

    public TransferReadStream(ChunkPipe pipe, CancellationTokenSource stop, Task producer, long expected, string what)
    {
        (_pipe, _stop, _producer, _expected, _what) = (pipe, stop, producer, expected, what);
    }

    /// <summary>The number of bytes the stream will give.</summary>
    public override long Length => _expected;

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.Length == 0)
        {
            return 0;
        }

        var n = await _pipe.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        _read += n;
        if (_read > _expected || n == 0 && _read < _expected)
        {
            throw new IOException($"{_what} gave {_read} bytes where {_expected} were expected; the transfer is incomplete — read it again.");
        }

        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_producer.IsCompleted)
        {
            _stop.Cancel();
        }

        try
        {
            await _producer.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // the reader has stopped; a failure of the transfer it abandoned is no longer news
        }

        _pipe.Drain();
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A read-through wrapper that reports the bytes read so far (a write's progress).</summary>
internal sealed class ProgressReadStream(Stream inner, IProgress<long>? progress) : ReadOnlyTransferStream
{
    private long _total;

    public long Total => _total;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (n > 0)
        {
            _total += n;
            progress?.Report(_total);
        }

        return n;
    }
}
