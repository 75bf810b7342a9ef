using System.Buffers;

namespace Ceso.Engine.Ssh.Sftp;

/// <summary>
/// An open remote file: a handle on one connection (it dies with the connection). Writes and reads are pipelined:
/// up to <see cref="SftpClient.InFlightBytes"/> of requests are outstanding, so a transfer runs at the link's speed
/// instead of one round trip per request.
/// </summary>
internal sealed class SftpFile : IAsyncDisposable
{
    private readonly SftpConnection _connection;
    private readonly byte[] _handle;
    private readonly int _readSize;
    private readonly int _readDepth;
    private readonly int _writeSize;
    private readonly int _writeDepth;
    private bool _closed;

    internal SftpFile(SftpConnection connection, byte[] handle, string path, int readSize, int readDepth, int writeSize, int writeDepth)
    {
        _readSize = readSize;
        _writeSize = writeSize;
        _connection = connection;
        _handle = handle;
        Path = path;
        _readDepth = readDepth;
        _writeDepth = writeDepth;
    }

    /// <summary>The remote path the file was opened by.</summary>
    public string Path { get; }

    internal SftpConnection Connection => _connection;

    /// <summary>FSTAT: the open file's attributes.</summary>
    public async Task<SftpAttributes> StatAsync(CancellationToken ct = default)
    {
        using var r = await _connection.RequestAsync(SftpPacket.Fstat, w => w.Bytes(_handle), default, ct).ConfigureAwait(false);
        _connection.Expect(r, SftpPacket.Attrs, "fstat", Path);
        return r.Attributes();
    }

    /// <summary>
    /// Writes <paramref name="source"/> (read to its end) from offset 0 in WRITEs of the server's largest size, many in
    /// flight; returns the bytes written. The first refused WRITE stops the transfer and is thrown once the WRITEs
    /// already sent are answered.
    /// </summary>
    public async Task<long> WriteAllAsync(Stream source, CancellationToken ct = default)
    {
        var chunk = _writeSize;
        var inFlight = new Queue<Task<SftpResponse>>();
        var buffer = ArrayPool<byte>.Shared.Rent(chunk);
        long offset = 0;
        try
        {
            while (true)
            {
                var n = await source.ReadAtLeastAsync(buffer.AsMemory(0, chunk), chunk, throwOnEndOfStream: false, ct).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                var at = offset;
                // The buffer is free again once SendAsync returns: its bytes are in the pipe to ssh.
                inFlight.Enqueue(await _connection.SendAsync(SftpPacket.Write, w => w.Bytes(_handle).UInt64((ulong)at).UInt32((uint)n), buffer.AsMemory(0, n), ct).ConfigureAwait(false));
                offset += n;
                while (inFlight.Count >= _writeDepth)
                {
                    await ExpectOkAsync(inFlight.Dequeue(), "write").ConfigureAwait(false);
                }

                if (n < chunk)
                {
                    break;
                }
            }

            while (inFlight.Count > 0)
            {
                await ExpectOkAsync(inFlight.Dequeue(), "write").ConfigureAwait(false);
            }

            return offset;
        }
        catch
        {
            Forget(inFlight);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A stream over the bytes from <paramref name="offset"/> to <paramref name="end"/>, read ahead in
    /// pipelined READs. With <paramref name="ownsFile"/> disposing the stream closes the file.</summary>
    public SftpReadStream OpenRead(long offset, long end, bool ownsFile, Func<Exception, Exception>? translate = null) =>
        new(this, offset, end, _readSize, _readDepth, ownsFile, translate);

    internal Task<Task<SftpResponse>> SendReadAsync(long offset, int length) =>
        _connection.SendAsync(SftpPacket.Read, w => w.Bytes(_handle).UInt64((ulong)offset).UInt32((uint)length), default, CancellationToken.None);

    /// <summary>fsync@openssh.com: the file's data reaches the server's disk. False when the server does not offer it.</summary>
    public async Task<bool> FsyncAsync(CancellationToken ct = default)
    {
        if (!_connection.Supports(SftpExtension.Fsync))
        {
            return false;
        }

        using var r = await _connection.RequestAsync(SftpPacket.Extended, w => w.String(SftpExtension.Fsync).Bytes(_handle), default, ct).ConfigureAwait(false);
        _connection.ExpectOk(r, "fsync", Path);
        return true;
    }

    /// <summary>CLOSE, with its status checked (a server may report a late write error here).</summary>
    public async Task CloseAsync(CancellationToken ct = default)
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        using var r = await _connection.RequestAsync(SftpPacket.Close, w => w.Bytes(_handle), default, ct).ConfigureAwait(false);
        _connection.ExpectOk(r, "close", Path);
    }

    /// <summary>Closes the handle if it is still open, ignoring the outcome.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_closed)
        {
            _closed = true;
            if (_connection.IsOpen)
            {
                await SftpClient.CloseHandleQuietlyAsync(_connection, _handle).ConfigureAwait(false);
            }
        }
    }

    private async Task ExpectOkAsync(Task<SftpResponse> reply, string operation)
    {
        using var r = await reply.ConfigureAwait(false);
        _connection.ExpectOk(r, operation, Path);
    }

    /// <summary>Replies nobody will read: their buffers go back to the pool, their failures are observed.</summary>
    internal static void Forget(IEnumerable<Task<SftpResponse>> replies)
    {
        foreach (var t in replies)
        {
            _ = t.ContinueWith(static x =>
            {
                if (x.IsCompletedSuccessfully)
                {
                    x.Result.Dispose();
                }
                else
                {
                    _ = x.Exception;
                }
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }
}
