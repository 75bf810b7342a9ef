using System.Runtime.CompilerServices;

namespace Ceso.Engine.Backup;

/// <summary>How <see cref="RetryingBackend"/> retries and how long one call may take.</summary>
public sealed record RetryPolicy
{
    /// <summary>Tries per call, the first one included.</summary>
    public int Attempts { get; init; } = 8;

    /// <summary>The wait before the second try; each later wait doubles, up to <see cref="MaxDelay"/>, with ±25 % jitter.</summary>
    public TimeSpan FirstDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait between two tries.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one try of a call that moves no data (stat, remove, one listing page) may take.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The slowest transfer rate a try of a save or read is allowed before it counts as hung (its timeout is
    /// <see cref="CallTimeout"/> plus its size at this rate).</summary>
    public long MinBytesPerSecond { get; init; } = 512 * 1024;

    /// <summary>Reads up to this size are buffered inside the try, so a connection dropped mid-read is retried too.</summary>
    public long BufferedReadLimit { get; init; } = 256L << 20;

    /// <summary>The policy for remote targets (SFTP, S3).</summary>
    public static RetryPolicy Default { get; } = new();
}

/// <summary>
/// A decorator that retries the transient failures of the backend under it (<c>RepositoryUnavailable</c>: dropped
/// connections, timeouts, 5xx answers) with exponential backoff and jitter, and puts a timeout on every try so a hung
/// connection becomes a retry instead of a backup that never ends. Other errors (a missing file, access denied, a full
/// target, corrupt data) pass through at once. Retrying is safe because every repository file is written once under
/// its content's name: a save that reached the server before the connection dropped is found again by the backend's
/// same-size rule.
/// </summary>
public sealed class RetryingBackend : IBackupBackend, IDisposable, IAsyncDisposable
{
    private readonly IBackupBackend _inner;
    private readonly RetryPolicy _policy;
    private readonly Func<TimeSpan, CancellationToken, Task> _delay;
    private long _retries;

    /// <summary>Wraps <paramref name="inner"/>; <paramref name="delay"/> replaces <see cref="Task.Delay(TimeSpan, CancellationToken)"/> in tests.</summary>
    public RetryingBackend(IBackupBackend inner, RetryPolicy? policy = null, Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        _inner = inner;
        _policy = policy ?? RetryPolicy.Default;
        _delay = delay ?? Task.Delay;
    }

    /// <summary>The backend under this decorator.</summary>
    public IBackupBackend Inner => _inner;

    /// <summary>How many tries were repeated so far (for the verbose text and the benchmark).</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Called before each retry with the failure and the attempt about to start (for -Verbose).</summary>
    public Action<Exception, int>? OnRetry { get; init; }

    /// <inheritdoc />
    public string Location => _inner.Location;

    /// <summary>Disposes the backend under it (its connections).</summary>
    public void Dispose() => (_inner as IDisposable)?.Dispose();

    /// <summary>Disposes the backend under it (its connections).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_inner is IAsyncDisposable async)
        {
            await async.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            (_inner as IDisposable)?.Dispose();
        }
    }

    /// <inheritdoc />
    public Task SaveAsync(FileKind kind, string name, Stream data, CancellationToken ct = default)
    {
        if (!data.CanSeek)
        {
            return _inner.SaveAsync(kind, name, data, ct); // a stream that cannot be rewound is sent once
        }

        var start = data.Position;
        return RunAsync(TimeoutFor(data.Length - start), async token =>
        {
            data.Position = start;
            await _inner.SaveAsync(kind, name, data, token).ConfigureAwait(false);
            return true;
        }, ct);
    }

    /// <inheritdoc />
    public async Task<Stream> OpenAsync(FileKind kind, string name, long offset = 0, long? length = null, CancellationToken ct = default)
    {
        var size = length ?? await StatAsync(kind, name, ct).ConfigureAwait(false) - offset;
        if (size is null || size > _policy.BufferedReadLimit)
        {
            // Too big to hold (or not there: the inner backend says which error): the caller reads the stream as it comes.
            return await RunAsync(_policy.CallTimeout, token => _inner.OpenAsync(kind, name, offset, length, token), ct).ConfigureAwait(false);
        }

        return await RunAsync(TimeoutFor(size.Value), async token =>
        {
            await using var stream = await _inner.OpenAsync(kind, name, offset, length, token).ConfigureAwait(false);
            var buffer = new MemoryStream((int)Math.Max(0, size.Value));
            await stream.CopyToAsync(buffer, 1 << 20, token).ConfigureAwait(false);
            buffer.Position = 0;
            return (Stream)buffer;
        }, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<long?> StatAsync(FileKind kind, string name, CancellationToken ct = default) =>
        RunAsync(_policy.CallTimeout, token => _inner.StatAsync(kind, name, token), ct);

    /// <inheritdoc />
    public async IAsyncEnumerable<BackendFile> ListAsync(FileKind kind, [EnumeratorCancellation] CancellationToken ct = default)
    {
        // A listing cut off half-way starts again; names already given are not given twice.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var attempt = 1; ; attempt++)
        {
            var batch = new List<BackendFile>();
            Exception? failure = null;
            await using (var e = _inner.ListAsync(kind, ct).GetAsyncEnumerator(ct))
            {
                while (true)
                {
                    try
                    {
                        bool more;
                        try
                        {
                            more = await e.MoveNextAsync().AsTask().WaitAsync(_policy.CallTimeout, ct).ConfigureAwait(false);
                        }
                        catch (TimeoutException ex)
                        {
                            throw BackupErrors.Unavailable(Location, $"listing the {kind} files took longer than {_policy.CallTimeout.TotalSeconds:0} s", ex);
                        }

                        if (!more)
                        {
                            break;
                        }
                    }
                    catch (Exception ex) when (BackupErrors.IsTransient(ex) && attempt < _policy.Attempts && !ct.IsCancellationRequested)
                    {
                        failure = ex;
                        break;
                    }

                    if (seen.Add(e.Current.Name))
                    {
                        batch.Add(e.Current);
                    }
                }
            }

            foreach (var file in batch)
            {
                yield return file;
            }

            if (failure is null)
            {
                yield break;
            }

            await WaitBeforeRetryAsync(failure, attempt, ct).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public Task RemoveAsync(FileKind kind, string name, CancellationToken ct = default) =>
        RunAsync(_policy.CallTimeout, async token =>
        {
            await _inner.RemoveAsync(kind, name, token).ConfigureAwait(false);
            return true;
        }, ct);

    private TimeSpan TimeoutFor(long bytes) =>
        _policy.CallTimeout + TimeSpan.FromSeconds((double)Math.Max(0, bytes) / Math.Max(1, _policy.MinBytesPerSecond));

    private async Task<T> RunAsync<T>(TimeSpan timeout, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var tryToken = CancellationTokenSource.CreateLinkedTokenSource(ct);
            tryToken.CancelAfter(timeout);
            try
            {
                return await call(tryToken.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (!ct.IsCancellationRequested && tryToken.IsCancellationRequested)
            {
                var hung = BackupErrors.Unavailable(Location, $"one try took longer than {timeout.TotalSeconds:0} s", ex);
                if (attempt >= _policy.Attempts)
                {
                    throw hung;
                }

                await WaitBeforeRetryAsync(hung, attempt, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (BackupErrors.IsTransient(ex) && attempt < _policy.Attempts && !ct.IsCancellationRequested)
            {
                await WaitBeforeRetryAsync(ex, attempt, ct).ConfigureAwait(false);
            }
        }
    }

    private async Task WaitBeforeRetryAsync(Exception failure, int attempt, CancellationToken ct)
    {
        Interlocked.Increment(ref _retries);
        OnRetry?.Invoke(failure, attempt + 1);
        var wait = Math.Min(_policy.MaxDelay.TotalMilliseconds, _policy.FirstDelay.TotalMilliseconds * Math.Pow(2, attempt - 1));
        wait *= 0.75 + (Random.Shared.NextDouble() * 0.5);
        await _delay(TimeSpan.FromMilliseconds(wait), ct).ConfigureAwait(false);
    }
}
