using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Ceso.Engine.Ssh;

/// <summary>
/// One persistent <c>/bin/sh</c> on the host over a single <c>ssh</c> process. Each command is framed by an
/// unguessable per-session marker that carries its exit code, so a command costs a write and a read instead of a
/// new process and handshake (measured on loopback: ~0.2 ms versus ~0.3 s). One command runs at a time.
/// Cancellation kills the ssh process and the session reopens on the next command: a command cut off half-way
/// never leaves stray output in the stream for the next one.
/// </summary>
public sealed class SshSession : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
    private Process? _process;
    private MarkerReader? _stdout;
    private MarkerReader? _stderr;
    private long _sequence;
    private long _waitTicks;
    private bool _disposed;

    /// <summary>Creates a session; nothing connects until the first command.</summary>
    public SshSession(SshTarget target) => Target = target;

    /// <summary>Where this session goes.</summary>
    public SshTarget Target { get; }

    /// <summary>Time spent waiting for the host (from sending a command to its last byte), for overhead benchmarks.</summary>
    public TimeSpan HostWait => TimeSpan.FromTicks(Interlocked.Read(ref _waitTicks));

    /// <summary>How many ssh processes this session has started (1 while the connection is reused).</summary>
    public int ConnectionsOpened { get; private set; }

    /// <summary>Opens the connection now (normally done by the first command) so that key and login errors surface early.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Runs one command line (built with <see cref="Shell.ShellQuote"/>) and returns what it printed and its exit code.</summary>
    public Task<SshResult> RunAsync(string commandLine, CancellationToken cancellationToken = default) =>
        RunAsync(commandLine, null, cancellationToken);

    /// <summary>
    /// Runs one command line and hands its standard output to <paramref name="onOutput"/> as it arrives (for progress
    /// text such as vmkfstools' "Clone: 37% done."); the result still holds all of it.
    /// </summary>
    public async Task<SshResult> RunAsync(string commandLine, Action<string>? onOutput, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureStartedAsync(cancellationToken).ConfigureAwait(false);
            return await ExchangeAsync(commandLine, cancellationToken, onOutput).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Runs one command on a fresh ssh process of its own (the way bulk file streams run, so that they never block
    /// the shared shell). Slower: one full SSH handshake per call.
    /// </summary>
    public async Task<SshResult> RunDetachedAsync(string commandLine, CancellationToken cancellationToken = default)
    {
        using var p = Start(commandLine);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await p.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Kill(p);
            throw;
        }

        var err = await stderr.ConfigureAwait(false);
        if (p.ExitCode == 255)
        {
            throw SshErrors.Classify(Target, err, p.ExitCode);
        }

        return new SshResult(commandLine, p.ExitCode, await stdout.ConfigureAwait(false), err);
    }

    /// <summary>
    /// Runs a command on its own ssh process and streams bytes through it: <paramref name="input"/> (if any) is sent as
    /// the command's stdin, its stdout is copied to <paramref name="output"/> (if any). For bulk transfers (disk images,
    /// backups) that must not hold up the shared shell. A connection lost mid-stream raises
    /// <see cref="SshConnectionException"/> (SshConnectionLost); the caller must treat what was written as incomplete.
    /// </summary>
    public async Task<SshResult> StreamAsync(string commandLine, Stream? input, Stream? output, CancellationToken cancellationToken = default)
    {
        using var p = Start(commandLine);
        using var onCancel = cancellationToken.Register(() => Kill(p));
        var stderr = p.StandardError.ReadToEndAsync(CancellationToken.None);
        var send = Task.Run(() => SendAsync(p, input, cancellationToken), CancellationToken.None);
        var bytes = 0L;
        try
        {
            if (output is not null)
            {
                var buffer = new byte[256 * 1024];
                int n;
                while ((n = await p.StandardOutput.BaseStream.ReadAsync(buffer, CancellationToken.None).ConfigureAwait(false)) > 0)
                {
                    await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    bytes += n;
                }
            }
            else
            {
                await p.StandardOutput.BaseStream.CopyToAsync(Stream.Null, CancellationToken.None).ConfigureAwait(false);
            }

            // A local read error must not look like the end of the data: the remote side would keep a short file.
            await send.ConfigureAwait(false);
        }
        catch
        {
            Kill(p); // the remote command must not finish on partial input, nor keep running for nobody
            try
            {
                await send.ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // already reporting the first failure
            }

            throw;
        }

        await p.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        var err = await stderr.ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (p.ExitCode == 255)
        {
            var e = SshErrors.Classify(Target, err, p.ExitCode);
            var dropped = err.Trim().Length == 0 || err.Contains("closed by remote host", StringComparison.Ordinal)
                || err.Contains("Broken pipe", StringComparison.Ordinal) || err.Contains("Connection reset", StringComparison.Ordinal);
            if (e.ErrorId == "SshConnectionFailed" && (dropped || bytes > 0))
            {
                throw new SshConnectionException("SshConnectionLost",
                    $"The SSH connection to {Target} was lost during '{commandLine}' after {bytes} bytes. The transfer is incomplete; run it again.")
                { Host = Target.Host, Command = commandLine };
            }

            throw e;
        }

        return new SshResult(commandLine, p.ExitCode, "", err);
    }

    // Copies the local input to the remote stdin. A remote that stops reading (it exited or the connection dropped)
    // ends the copy quietly — the exit code tells why. A failure to read the local input kills ssh before anything
    // could send the remote an end of input, and is thrown.
    private static async Task SendAsync(Process p, Stream? input, CancellationToken ct)
    {
        if (input is not null)
        {
            var stdin = p.StandardInput.BaseStream;
            var buffer = new byte[256 * 1024];
            while (true)
            {
                int n;
                try
                {
                    n = await input.ReadAsync(buffer, ct).ConfigureAwait(false);
                }
                catch
                {
                    Kill(p);
                    throw;
                }

                if (n == 0)
                {
                    break;
                }

                try
                {
                    await stdin.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                }
                catch (IOException)
                {
                    return; // the remote side went away
                }
            }
        }

        try
        {
            p.StandardInput.Close();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            // already closed
        }
    }

    private async Task EnsureStartedAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_process is { HasExited: false })
        {
            return;
        }

        Discard();
        var p = Start("/bin/sh");
        _process = p;
        _stdout = new MarkerReader(p.StandardOutput.BaseStream);
        _stderr = new MarkerReader(p.StandardError.BaseStream);
        ConnectionsOpened++;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Target.ConnectTimeout + TimeSpan.FromSeconds(5));
        try
        {
            await ExchangeAsync(":", timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            Discard();
            throw new SshConnectionException("SshConnectTimeout",
                $"No SSH session to {Target} within {Target.ConnectTimeout.TotalSeconds:0} s. Check the address, port and firewall.")
            { Host = Target.Host };
        }
    }

    private Process Start(string remoteCommand) => SshProcess.Start(Target, Target.Arguments(remoteCommand));

    private async Task<SshResult> ExchangeAsync(string commandLine, CancellationToken ct, Action<string>? onOutput = null)
    {
        var p = _process!;
        var marker = $"{_nonce}x{++_sequence}";
        // The command runs in a subshell with stdin from /dev/null: it cannot read the command channel or end the
        // session with `exit`. The newline before ')' keeps a trailing comment or heredoc from swallowing it.
        var frame = $"( {commandLine}\n) </dev/null; __ceso_rc=$?; printf '%s:%s\\n' {marker} \"$__ceso_rc\"; printf '%s\\n' {marker} >&2\n";
        Task<(string Text, int Status)>? errTask = null;
        // Pipe reads do not always observe the token; killing ssh ends them at once.
        using var onCancel = ct.Register(() => Kill(p));
        try
        {
            var bytes = Encoding.UTF8.GetBytes(frame);
            var started = Stopwatch.GetTimestamp();
            errTask = _stderr!.ReadUntilAsync(marker + "\n", readStatus: false, ct);
            await p.StandardInput.BaseStream.WriteAsync(bytes, ct).ConfigureAwait(false);
            await p.StandardInput.BaseStream.FlushAsync(ct).ConfigureAwait(false);
            var (stdout, status) = await _stdout!.ReadUntilAsync(marker + ":", readStatus: true, ct, onOutput).ConfigureAwait(false);
            var (stderr, _) = await errTask.ConfigureAwait(false);
            Interlocked.Add(ref _waitTicks, Stopwatch.GetElapsedTime(started).Ticks);
            return new SshResult(commandLine, status, stdout, stderr);
        }
        catch (OperationCanceledException)
        {
            // The remote command may still be running; its output would corrupt the next exchange. Start afresh.
            Discard();
            throw;
        }
        catch (Exception e) when ((e is EndOfStreamException or IOException) && ct.IsCancellationRequested)
        {
            Discard();
            throw new OperationCanceledException("The command was cancelled; the SSH session was closed and reopens on the next command.", e, ct);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
            if (errTask is not null)
            {
                // stderr reaches its end too once ssh exits; what it said explains the failure.
                await Task.WhenAny(errTask, Task.Delay(2000, CancellationToken.None)).ConfigureAwait(false);
            }

            var err = _stderr?.Buffered ?? "";
            var exit = WaitExit(p);
            Discard();
            if (commandLine == ":")
            {
                throw SshErrors.Classify(Target, err, exit);
            }

            throw new SshConnectionException("SshConnectionLost",
                $"The SSH connection to {Target} was lost while running '{commandLine}' (ssh exit code {exit}{(err.Trim().Length > 0 ? ": " + err.Trim() : "")}). " +
                "The command may or may not have completed on the host; check its state before retrying.", e)
            { Host = Target.Host, Command = commandLine };
        }
    }

    private static int WaitExit(Process p)
    {
        try
        {
            return p.WaitForExit(2000) ? p.ExitCode : -1;
        }
        catch (InvalidOperationException)
        {
            return -1;
        }
    }

    private void Discard()
    {
        if (_process is { } p)
        {
            Kill(p);
            p.Dispose();
        }

        _process = null;
        _stdout = null;
        _stderr = null;
    }

    private static void Kill(Process p) => SshProcess.Kill(p);

    /// <summary>Closes the shell (ends the ssh process).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_process is { HasExited: false } p)
        {
            try
            {
                p.StandardInput.Close(); // sh exits at end of input
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await p.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException)
            {
                // fall through to kill
            }
        }

        Discard();
        _gate.Dispose();
    }
}
