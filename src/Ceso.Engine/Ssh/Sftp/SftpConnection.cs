using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;

namespace Ceso.Engine.Ssh.Sftp;

/// <summary>
/// One SFTP session over one <c>ssh … -s -- host sftp</c> process: requests are written to its stdin under a lock,
/// a reader task matches the replies on its stdout to their request ids, so any number of requests can be in flight.
/// When the process ends, every pending and later request fails with <see cref="SshConnectionException"/>
/// <c>SshConnectionLost</c>; a cancelled wait kills the process (a request cannot be withdrawn in SFTP, and a hung
/// connection must not be reused), so a new connection is needed after either.
/// </summary>
internal sealed partial class SftpConnection : IAsyncDisposable
{
    private readonly SshTarget _target;
    private readonly Process _process;
    private readonly Stream _stdin;
    private readonly Stream _stdout;
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly Dictionary<uint, Pending> _pending = [];
    private readonly StringBuilder _stderr = new();
    private readonly Task _stderrTask;
    private Task _readerTask = Task.CompletedTask;
    private Exception? _failure;
    private uint _nextId;

    private SftpConnection(SshTarget target, Process process)
    {
        _target = target;
        _process = process;
        _stdin = process.StandardInput.BaseStream;
        _stdout = process.StandardOutput.BaseStream;
        _stderrTask = Task.Run(DrainStderrAsync);
    }

    /// <summary>The extensions the server named in its VERSION packet, with their data.</summary>
    public IReadOnlyDictionary<string, string> Extensions { get; private set; } = new Dictionary<string, string>();

    /// <summary>The largest READ length the server serves whole (limits@openssh.com, else 32 KiB, which every server must take).</summary>
    public int MaxRead { get; private set; } = 32 * 1024;

    /// <summary>The largest WRITE length the server takes (limits@openssh.com, else 32 KiB).</summary>
    public int MaxWrite { get; private set; } = 32 * 1024;

    /// <summary>False once the connection is lost or closed.</summary>
    public bool IsOpen => Volatile.Read(ref _failure) is null;

    /// <summary>True when the server offers the extension.</summary>
    public bool Supports(string extension) => Extensions.ContainsKey(extension);

    /// <summary>
    /// Starts ssh, sends INIT and reads VERSION. Login and host-key failures raise what a shell session raises for them
    /// (<see cref="SshErrors.Classify"/>: SshHostKeyUnknown, SshHostKeyMismatch, SshAuthenticationFailed, …).
    /// </summary>
    public static async Task<SftpConnection> OpenAsync(SshTarget target, CancellationToken ct)
    {
        var c = new SftpConnection(target, SshProcess.Start(target, target.SubsystemArguments("sftp")));
        try
        {
            await c.HandshakeAsync(ct).ConfigureAwait(false);
            return c;
        }
        catch
        {
            await c.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task HandshakeAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_target.ConnectTimeout + TimeSpan.FromSeconds(5));
        // Pipe reads do not always observe a token; killing ssh ends them.
        using var onCancel = timeout.Token.Register(() => SshProcess.Kill(_process));
        SftpResponse? version;
        try
        {
            await _stdin.WriteAsync(new SftpWriter(SftpPacket.Init).UInt32(3).Finish(), timeout.Token).ConfigureAwait(false);
            version = await ReadPacketAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new SshConnectionException("SshConnectTimeout",
                $"No SFTP session to {_target} within {_target.ConnectTimeout.TotalSeconds:0} s. Check the address, port and firewall.", e)
            { Host = _target.Host };
        }
        catch (InvalidDataException e)
        {
            throw ProtocolError(e.Message);
        }
        catch (Exception e) when (e is IOException && !ct.IsCancellationRequested)
        {
            version = null;
        }

        ct.ThrowIfCancellationRequested();
        if (version is null)
        {
            // ssh gave up before the subsystem answered: what it printed says why (host key, login, network).
            var exit = await WaitExitAsync().ConfigureAwait(false);
            var e = SshErrors.Classify(_target, await StderrAsync().ConfigureAwait(false), exit);
            if (e.ErrorId == "SshConnectionFailed" && exit != 255)
            {
                throw new SshConnectionException("SftpSubsystemMissing",
                    $"{_target} accepted the SSH login but gave no SFTP session (ssh exit code {exit}). Enable the sftp subsystem in the server's sshd_config (ESXi has it by default).")
                { Host = _target.Host };
            }

            throw e;
        }

        using (version)
        {
            if (version.Type != SftpPacket.Version)
            {
                throw ProtocolError($"the server's first packet is of type {version.Type}, not VERSION");
            }

            var extensions = new Dictionary<string, string>(StringComparer.Ordinal);
            version.UInt32(); // the server's version: 3 from every OpenSSH; extensions are named, not versioned
            while (!version.AtEnd)
            {
                extensions[version.String()] = version.String();
            }

            Extensions = extensions;
        }

        _readerTask = Task.Run(ReadLoopAsync);
        if (Supports(SftpExtension.Limits))
        {
            using var r = await RequestAsync(SftpPacket.Extended, w => w.String(SftpExtension.Limits), default, ct).ConfigureAwait(false);
            if (r.Type == SftpPacket.ExtendedReply)
            {
                r.UInt64(); // max packet length
                var read = r.UInt64();
                var write = r.UInt64();
                MaxRead = read == 0 ? MaxRead : (int)Math.Min(read, 256 * 1024);
                MaxWrite = write == 0 ? MaxWrite : (int)Math.Min(write, 256 * 1024);
            }
        }
    }

    /// <summary>
    /// Sends one request and returns, once it is written, the task of its reply (so the caller can keep several in
    /// flight). The fields after the request id come from <paramref name="fields"/>; <paramref name="tail"/> is sent
    /// after them without a copy (a WRITE's data, whose length prefix <paramref name="fields"/> wrote).
    /// </summary>
    public async Task<Task<SftpResponse>> SendAsync(byte type, Action<SftpWriter>? fields, ReadOnlyMemory<byte> tail, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var pending = new Pending();
        uint id;
        lock (_pending)
        {
            ThrowIfFailed();
            id = ++_nextId;
            _pending[id] = pending;
        }

        var w = new SftpWriter(type).UInt32(id);
        fields?.Invoke(w);
        if (ct.CanBeCanceled)
        {
            pending.Registration = ct.Register(() =>
            {
                if (pending.Reply.TrySetCanceled(ct))
                {
                    Abort("a request was cancelled");
                }
            });
        }

        Exception? sendFailure = null;
        await _sendGate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            // Not cancellable part-way: half a packet would corrupt the stream (cancellation kills the process instead).
            await _stdin.WriteAsync(w.Finish(tail.Length), CancellationToken.None).ConfigureAwait(false);
            if (!tail.IsEmpty)
            {
                await _stdin.WriteAsync(tail, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            sendFailure = e;
        }
        finally
        {
            _sendGate.Release();
        }

        if (sendFailure is not null)
        {
            // ssh is gone: the reader sees the end of its output and reports what ssh said (exit code, stderr).
            await Task.WhenAny(_readerTask, Task.Delay(3000, CancellationToken.None)).ConfigureAwait(false);
            Fail(Lost(sendFailure));
        }

        return pending.Reply.Task;
    }

    /// <summary>Sends one request and waits for its reply.</summary>
    public async Task<SftpResponse> RequestAsync(byte type, Action<SftpWriter>? fields, ReadOnlyMemory<byte> tail, CancellationToken ct) =>
        await (await SendAsync(type, fields, tail, ct).ConfigureAwait(false)).ConfigureAwait(false);

    /// <summary>Kills the connection: every pending request fails, the next call needs a new connection.</summary>
    public void Abort(string why)
    {
        Fail(new SshConnectionException("SshConnectionLost", $"The SFTP connection to {_target} was closed: {why}.") { Host = _target.Host });
    }

    private async Task ReadLoopAsync()
    {
        Exception? cause = null;
        try
        {
            while (await ReadPacketAsync(CancellationToken.None).ConfigureAwait(false) is { } r)
            {
                var id = r.UInt32();
                Pending? p;
                lock (_pending)
                {
                    _pending.Remove(id, out p);
                }

                if (p is null || !p.Reply.TrySetResult(r))
                {
                    r.Dispose(); // the reply of a request whose caller gave up
                }

                p?.Registration.Dispose();
            }
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or InvalidDataException or ObjectDisposedException)
        {
            cause = e;
        }

        if (IsOpen)
        {
            var exit = await WaitExitAsync().ConfigureAwait(false);
            var err = (await StderrAsync().ConfigureAwait(false)).Trim();
            Fail(new SshConnectionException("SshConnectionLost",
                $"The SFTP connection to {_target} was lost (ssh exit code {exit}{(err.Length > 0 ? ": " + err : "")}). A file being written is incomplete and not visible; try again.", cause)
            { Host = _target.Host });
        }
    }

    private async Task<SftpResponse?> ReadPacketAsync(CancellationToken ct)
    {
        var header = new byte[4];
        var got = await _stdout.ReadAtLeastAsync(header, 4, throwOnEndOfStream: false, ct).ConfigureAwait(false);
        if (got == 0)
        {
            return null;
        }

        if (got < 4)
        {
            throw new EndOfStreamException("The SFTP stream ended inside a packet header.");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length < 5 || length > SftpPacket.MaxIncoming)
        {
            throw new InvalidDataException($"An SFTP packet of {length} bytes is not acceptable.");
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            await _stdout.ReadExactlyAsync(buffer.AsMemory(0, (int)length), ct).ConfigureAwait(false);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return new SftpResponse(buffer, (int)length);
    }

    private SshConnectionException Lost(Exception cause) =>
        new("SshConnectionLost", $"The SFTP connection to {_target} was lost while sending a request ({cause.Message}). Try again.", cause) { Host = _target.Host };

    private void Fail(Exception e)
    {
        List<Pending> waiting;
        lock (_pending)
        {
            if (_failure is not null)
            {
                return;
            }

            _failure = e;
            waiting = [.. _pending.Values];
            _pending.Clear();
        }

        SshProcess.Kill(_process);
        foreach (var p in waiting)
        {
            p.Reply.TrySetException(e);
            p.Registration.Dispose();
        }
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } f)
        {
            throw f;
        }
    }

    private async Task<int> WaitExitAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return _process.ExitCode;
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
        {
            return -1;
        }
    }

    private async Task<string> StderrAsync()
    {
        await Task.WhenAny(_stderrTask, Task.Delay(1000)).ConfigureAwait(false);
        lock (_stderr)
        {
            return _stderr.ToString();
        }
    }

    private async Task DrainStderrAsync()
    {
        var buffer = new char[4096];
        try
        {
            int n;
            while ((n = await _process.StandardError.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                lock (_stderr)
                {
                    if (_stderr.Length < 16 * 1024)
                    {
                        _stderr.Append(buffer, 0, n);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // the process is gone
        }
    }

    /// <summary>Ends the session: end of input first (sftp-server and ssh exit), then a kill after 2 s.</summary>
    public async ValueTask DisposeAsync()
    {
        if (IsOpen)
        {
            try
            {
                if (await _sendGate.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false))
                {
                    _process.StandardInput.Close(); // never in the middle of another request's packet
                    await WaitExitAsync().ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
            {
                // killed below
            }

            Abort("the session was closed");
        }

        SshProcess.Kill(_process);
        await Task.WhenAny(_readerTask, Task.Delay(2000)).ConfigureAwait(false);
        await Task.WhenAny(_stderrTask, Task.Delay(1000)).ConfigureAwait(false);
        _process.Dispose();
    }

    private sealed class Pending
    {
        public TaskCompletionSource<SftpResponse> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }
    }
}
