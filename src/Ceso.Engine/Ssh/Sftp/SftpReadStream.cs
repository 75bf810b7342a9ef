namespace Ceso.Engine.Ssh.Sftp;

/// <summary>
/// Reads a byte range of an <see cref="SftpFile"/> with READs sent ahead of the reader (up to the file's read depth),
/// so the link stays busy. A short reply is completed by another READ for the rest before the next range; an EOF
/// before <c>end</c> raises <see cref="SftpStatusException"/> (SSH_FX_EOF). Errors pass through the optional
/// translation (the backend's own error ids). A cancelled read kills the connection (replies cannot be withdrawn).
/// </summary>
internal sealed class SftpReadStream : Hosts.ReadOnlyTransferStream
{
    private readonly SftpFile _file;
    private readonly long _end;
    private readonly int _chunk;
    private readonly int _depth;
    private readonly bool _ownsFile;
    private readonly Func<Exception, Exception>? _translate;
    private readonly LinkedList<(long Offset, int Length, Task<SftpResponse> Reply)> _ahead = new();
    private long _next;
    private long _position;
    private SftpResponse? _current;
    private ReadOnlyMemory<byte> _data;
    private bool _disposed;

    internal SftpReadStream(SftpFile file, long offset, long end, int chunk, int depth, bool ownsFile, Func<Exception, Exception>? translate)
    {
        _file = file;
        _next = _position = offset;
        _end = end;
        _chunk = chunk;
        _depth = depth;
        _ownsFile = ownsFile;
        _translate = translate;
    }

    /// <inheritdoc />
    public override bool CanRead => !_disposed;

    /// <inheritdoc />
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (buffer.IsEmpty)
        {
            return 0;
        }

        try
        {
            while (_data.IsEmpty)
            {
                _current?.Dispose();
                _current = null;
                if (_position >= _end)
                {
                    return 0;
                }

                await FillAheadAsync().ConfigureAwait(false);
                var (offset, length, reply) = _ahead.First!.Value;
                _ahead.RemoveFirst();
                SftpResponse r;
                try
                {
                    r = await reply.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    SftpFile.Forget([reply]);
                    _file.Connection.Abort("a read was cancelled");
                    throw;
                }

                _current = r;
                _file.Connection.Expect(r, SftpPacket.Data, "read", _file.Path);
                _data = r.Bytes();
                if (_data.Length > length)
                {
                    throw new InvalidDataException($"The SFTP server sent {_data.Length} bytes for a READ of {length}.");
                }

                if (_data.Length < length)
                {
                    // A short (or empty) reply: the rest of this range comes before the ranges already asked for.
                    var rest = offset + _data.Length;
                    _ahead.AddFirst((rest, length - _data.Length, await _file.SendReadAsync(rest, length - _data.Length).ConfigureAwait(false)));
                }
            }

            var n = Math.Min(buffer.Length, _data.Length);
            _data[..n].CopyTo(buffer);
            _data = _data[n..];
            _position += n;
            return n;
        }
        catch (Exception e) when (_translate is not null && e is not OperationCanceledException && _translate(e) is var t && !ReferenceEquals(t, e))
        {
            throw t;
        }
    }

    private async Task FillAheadAsync()
    {
        while (_ahead.Count < _depth && _next < _end)
        {
            var length = (int)Math.Min(_chunk, _end - _next);
            _ahead.AddLast((_next, length, await _file.SendReadAsync(_next, length).ConfigureAwait(false)));
            _next += length;
        }
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (!Release())
        {
            return;
        }

        if (_ownsFile)
        {
            await _file.DisposeAsync().ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && Release() && _ownsFile)
        {
            _ = _file.DisposeAsync().AsTask(); // the CLOSE goes out; nobody waits for its answer
        }

        base.Dispose(disposing);
    }

    private bool Release()
    {
        if (_disposed)
        {
            return false;
        }

        _disposed = true;
        _current?.Dispose();
        _current = null;
        _data = default;
        SftpFile.Forget(_ahead.Select(a => a.Reply));
        _ahead.Clear();
        return true;
    }
}
