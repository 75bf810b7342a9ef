using Ceso.Engine.Ssh;

namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>
/// One run of a host helper on a bulk ssh process of its own (<see cref="SshSession.StreamAsync"/>): stdin pulled from
/// <c>input</c>, stdout pushed into a bounded <see cref="ChunkPipe"/> that the caller reads frames from, so memory
/// stays at a few chunks whatever the disk's size and a slow consumer slows the host. Disposing before the end kills
/// the ssh process (which ends the script on the host: its stdout and stdin close) and waits for it.
/// </summary>
internal sealed class HelperProcess : IAsyncDisposable
{
    private readonly ChunkPipe _pipe = new(16);
    private readonly CancellationTokenSource _stop;
    private readonly Task<SshResult?> _run;
    private long _received;

    private HelperProcess(SshSession ssh, Stream input, CancellationToken ct)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var token = _stop.Token;
        _run = Task.Run(async () =>
        {
            try
            {
                var r = await ssh.StreamAsync(HelperScripts.Command, input, _pipe.AsWriteStream(), token).ConfigureAwait(false);
                _pipe.Complete();
                return r;
            }
            catch (Exception e)
            {
                _pipe.Complete(e);
                return null;
            }
        }, CancellationToken.None);
    }

    /// <summary>Starts the helper; its stdin is read from <paramref name="input"/> as the host takes it.</summary>
    public static HelperProcess Start(SshSession ssh, Stream input, CancellationToken ct) => new(ssh, input, ct);

    /// <summary>Bytes received from the host so far (the wire bytes of the helper path).</summary>
    public long Received => _received;

    /// <summary>
    /// Fills <paramref name="into"/> from the helper's stdout; fewer bytes only at its end. Throws what the transfer
    /// failed with (a lost connection) once the bytes before the failure are read.
    /// </summary>
    public async ValueTask<int> ReadAsync(Memory<byte> into, CancellationToken ct)
    {
        var got = 0;
        while (got < into.Length)
        {
            var n = await _pipe.ReadAsync(into[got..], ct).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            got += n;
        }

        _received += got;
        return got;
    }

    /// <summary>The ssh process's result once stdout ended (null when the transfer failed: that failure was thrown by a read).</summary>
    public Task<SshResult?> ResultAsync() => _run;

    /// <summary>What the host said when the helper ended without its last frame: exit code and stderr.</summary>
    public static string Describe(SshResult? r) => r is null ? "the transfer failed"
        : $"exit code {r.ExitCode}{(r.Stderr.Trim().Length > 0 ? ": " + r.Stderr.Trim() : "")}";

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_run.IsCompleted)
        {
            _stop.Cancel();
        }

        await _run.ConfigureAwait(false); // never throws: failures are in the pipe
        _pipe.Drain();
        _stop.Dispose();
    }
}
