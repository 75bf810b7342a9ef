using System.Runtime.CompilerServices;

namespace Ceso.Engine.Ssh.Sftp;

/// <summary>
/// A small SFTP v3 client (draft-ietf-secsh-filexfer-02, plus OpenSSH's posix-rename, fsync, statvfs and limits
/// extensions when the server offers them) over the system OpenSSH client, reached exactly like a host's shell
/// (<see cref="SshTarget.SubsystemArguments"/>). One connection carries any number of concurrent requests; a lost or
/// cancelled connection fails what was pending on it (<see cref="SshConnectionException"/> <c>SshConnectionLost</c>)
/// and the next call opens a new one. A status other than OK raises <see cref="SftpStatusException"/>.
/// </summary>
internal sealed class SftpClient : IAsyncDisposable
{
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private SftpConnection? _connection;
    private int _connectionsOpened;
    private bool _disposed;

    /// <summary>A client for <paramref name="target"/>; nothing connects until the first call.</summary>
    public SftpClient(SshTarget target) => Target = target;

    /// <summary>Where the client connects.</summary>
    public SshTarget Target { get; }

    /// <summary>How many ssh processes the client has started (1 while the connection holds).</summary>
    public int ConnectionsOpened => Volatile.Read(ref _connectionsOpened);

    /// <summary>About how many bytes of one transfer's READs or WRITEs are in flight at once (the pipelining depth is
    /// this divided by the request size, from 4 to 64 requests: 16 of 255 KiB against OpenSSH, 64 of 32 KiB against a
    /// server without limits@openssh.com). Measured on loopback, 4–16 MiB all reach the speed of the sftp command.</summary>
    public int InFlightBytes { get; init; } = 4 << 20;

    /// <summary>The largest READ or WRITE sent (the server's limits@openssh.com may lower it; 32 KiB without them).</summary>
    public int RequestSize { get; init; } = 256 * 1024;

    /// <summary>The open connection, or a new one.</summary>
    public async Task<SftpConnection> ConnectAsync(CancellationToken ct = default)
    {
        if (Volatile.Read(ref _connection) is { IsOpen: true } open)
        {
            return open;
        }

        await _connectGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is { IsOpen: true } again)
            {
                return again;
            }

            if (_connection is { } old)
            {
                _connection = null;
                await old.DisposeAsync().ConfigureAwait(false);
            }

            var c = await SftpConnection.OpenAsync(Target, ct).ConfigureAwait(false);
            Interlocked.Increment(ref _connectionsOpened);
            Volatile.Write(ref _connection, c);
            return c;
        }
        finally
        {
            _connectGate.Release();
        }
    }

    /// <summary>Kills the current connection as a dropped link would (for tests of what follows a drop).</summary>
    internal void DropConnection(string why) => Volatile.Read(ref _connection)?.Abort(why);

    /// <summary>The attributes of <paramref name="path"/> (symlinks followed), or null when there is no such file.</summary>
    public async Task<SftpAttributes?> StatAsync(string path, CancellationToken ct = default)
    {
        var c = await ConnectAsync(ct).ConfigureAwait(false);
        using var r = await c.RequestAsync(SftpPacket.Stat, w => w.String(path), default, ct).ConfigureAwait(false);
        try
        {
            c.Expect(r, SftpPacket.Attrs, "stat", path);
        }
        catch (SftpStatusException e) when (e.Status == SftpStatus.NoSuchFile)
        {
            return null;
        }

        return r.Attributes();
    }

    /// <summary>Creates one directory (its parent must exist).</summary>
    public Task MakeDirectoryAsync(string path, CancellationToken ct = default) =>
        StatusRequestAsync(SftpPacket.Mkdir, w => w.String(path).NoAttributes(), "mkdir", path, ct);

    /// <summary>Removes one file.</summary>
    public Task RemoveAsync(string path, CancellationToken ct = default) =>
        StatusRequestAsync(SftpPacket.Remove, w => w.String(path), "remove", path, ct);

    /// <summary>Removes one empty directory.</summary>
    public Task RemoveDirectoryAsync(string path, CancellationToken ct = default) =>
        StatusRequestAsync(SftpPacket.Rmdir, w => w.String(path), "rmdir", path, ct);

    /// <summary>
    /// SSH_FXP_RENAME, which never replaces an existing <paramref name="to"/> (OpenSSH's sftp-server links the new
    /// name and unlinks the old one, or checks and renames where links are not supported): a name that exists fails
    /// with SSH_FX_FAILURE.
    /// </summary>
    public Task RenameAsync(string from, string to, CancellationToken ct = default) =>
        StatusRequestAsync(SftpPacket.Rename, w => w.String(from).String(to), "rename", from, ct);

    /// <summary>posix-rename@openssh.com: rename(2), replacing <paramref name="to"/>; false when the server does not offer it.</summary>
    public async Task<bool> PosixRenameAsync(string from, string to, CancellationToken ct = default)
    {
        var c = await ConnectAsync(ct).ConfigureAwait(false);
        if (!c.Supports(SftpExtension.PosixRename))
        {
            return false;
        }

        using var r = await c.RequestAsync(SftpPacket.Extended, w => w.String(SftpExtension.PosixRename).String(from).String(to), default, ct).ConfigureAwait(false);
        c.ExpectOk(r, "posix-rename", from);
        return true;
    }

    /// <summary>statvfs@openssh.com for the file system holding <paramref name="path"/>; null when the server does not offer it.</summary>
    public async Task<SftpFileSystemStats?> StatVfsAsync(string path, CancellationToken ct = default)
    {
        var c = await ConnectAsync(ct).ConfigureAwait(false);
        if (!c.Supports(SftpExtension.StatVfs))
        {
            return null;
        }

        using var r = await c.RequestAsync(SftpPacket.Extended, w => w.String(SftpExtension.StatVfs).String(path), default, ct).ConfigureAwait(false);
        c.Expect(r, SftpPacket.ExtendedReply, "statvfs", path);
        r.UInt64(); // f_bsize
        var frsize = r.UInt64();
        var blocks = r.UInt64();
        r.UInt64(); // f_bfree
        var bavail = r.UInt64();
        r.UInt64(); // f_files
        r.UInt64(); // f_ffree
        var favail = r.UInt64();
        return new SftpFileSystemStats(frsize, blocks, bavail, favail);
    }

    /// <summary>Opens a file; with <see cref="SftpOpenFlags.Create"/> | <see cref="SftpOpenFlags.Exclusive"/> it must not exist.</summary>
    public async Task<SftpFile> OpenAsync(string path, SftpOpenFlags flags, CancellationToken ct = default)
    {
        var c = await ConnectAsync(ct).ConfigureAwait(false);
        using var r = await c.RequestAsync(SftpPacket.Open, w => w.String(path).UInt32((uint)flags).NoAttributes(), default, ct).ConfigureAwait(false);
        c.Expect(r, SftpPacket.Handle, "open", path);
        var read = Math.Min(c.MaxRead, RequestSize);
        var write = Math.Min(c.MaxWrite, RequestSize);
        return new SftpFile(c, r.Bytes().ToArray(), path, read, Depth(read), write, Depth(write));
    }

    /// <summary>The entries of a directory (without <c>.</c> and <c>..</c>), a READDIR batch at a time.</summary>
    public async IAsyncEnumerable<SftpDirectoryEntry> ListAsync(string path, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var c = await ConnectAsync(ct).ConfigureAwait(false);
        byte[] handle;
        using (var r = await c.RequestAsync(SftpPacket.Opendir, w => w.String(path), default, ct).ConfigureAwait(false))
        {
            c.Expect(r, SftpPacket.Handle, "opendir", path);
            handle = r.Bytes().ToArray();
        }

        try
        {
            while (true)
            {
                var batch = new List<SftpDirectoryEntry>();
                using (var r = await c.RequestAsync(SftpPacket.Readdir, w => w.Bytes(handle), default, ct).ConfigureAwait(false))
                {
                    if (r.Type == SftpPacket.Status)
                    {
                        var s = c.StatusOf(r, "readdir", path);
                        if (s is null or { Status: SftpStatus.Eof })
                        {
                            yield break;
                        }

                        throw s;
                    }

                    c.Expect(r, SftpPacket.Name, "readdir", path);
                    for (var n = r.UInt32(); n > 0; n--)
                    {
                        var name = r.String();
                        r.Bytes(); // longname (ls -l text)
                        var attributes = r.Attributes();
                        if (name is not "." and not "..")
                        {
                            batch.Add(new SftpDirectoryEntry(name, attributes));
                        }
                    }
                }

                foreach (var e in batch)
                {
                    yield return e;
                }
            }
        }
        finally
        {
            if (c.IsOpen)
            {
                await CloseHandleQuietlyAsync(c, handle).ConfigureAwait(false);
            }
        }
    }

    internal static async Task CloseHandleQuietlyAsync(SftpConnection c, byte[] handle)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            (await c.RequestAsync(SftpPacket.Close, w => w.Bytes(handle), default, CancellationToken.None).WaitAsync(cts.Token).ConfigureAwait(false)).Dispose();
        }
        catch (Exception e) when (e is CesoException or OperationCanceledException or TimeoutException)
        {
            // the handle dies with the connection
        }
    }

    private async Task StatusRequestAsync(byte type, Action<SftpWriter> fields, string operation, string path, CancellationToken ct)
    {
        var c = await ConnectAsync(ct).ConfigureAwait(false);
        using var r = await c.RequestAsync(type, fields, default, ct).ConfigureAwait(false);
        c.ExpectOk(r, operation, path);
    }

    private int Depth(int requestSize) => Math.Clamp(InFlightBytes / Math.Max(1, requestSize), 4, 64);

    /// <summary>Closes the connection (the ssh process ends; it is killed if it does not within 2 s).</summary>
    public async ValueTask DisposeAsync()
    {
        await _connectGate.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            if (_connection is { } c)
            {
                _connection = null;
                await c.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _connectGate.Release();
        }
    }
}
