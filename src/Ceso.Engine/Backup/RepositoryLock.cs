using System.Diagnostics;
using System.Text.Json;

namespace Ceso.Engine.Backup;

/// <summary>What a lock file says: who holds the repository, since when, and how.</summary>
/// <param name="Time">When the lock was written or last refreshed (UTC).</param>
/// <param name="Exclusive">True for prune (no one else may work), false for backups and reads that write.</param>
/// <param name="Hostname">The machine of the holder.</param>
/// <param name="Username">The user of the holder.</param>
/// <param name="Pid">The holder's process id on its machine.</param>
public sealed record LockInfo(DateTimeOffset Time, bool Exclusive, string Hostname, string Username, int Pid)
{
    /// <summary>A lock not refreshed for this long is stale and ignored.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(30);

    /// <summary>True when the lock no longer protects anything: too old, or its process is gone from this machine.</summary>
    public bool IsStale(DateTimeOffset now) =>
        now - Time > StaleAfter ||
        (string.Equals(Hostname, Environment.MachineName, StringComparison.OrdinalIgnoreCase) && !ProcessAlive(Pid));

    /// <summary>Who holds it, for messages.</summary>
    public override string ToString() =>
        $"{(Exclusive ? "an exclusive" : "a shared")} lock of {Username}@{Hostname} (pid {Pid}) since {Time.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z";

    private static bool ProcessAlive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}

/// <summary>
/// A lock held on a repository (<c>locks/&lt;sha256&gt;</c>, a sealed JSON <see cref="LockInfo"/>). Taking one writes
/// the lock first and then looks at the others (so two clients racing both see each other), and backs out when a
/// live lock conflicts. While held it is refreshed (a new file, then the old one removed) every
/// <see cref="RefreshInterval"/>. Stale locks met on the way are removed.
/// </summary>
internal sealed class RepositoryLock : IAsyncDisposable
{
    public const string Purpose = "ceso:lock";
    public static TimeSpan RefreshInterval { get; } = TimeSpan.FromMinutes(5);

    private readonly IBackupBackend _backend;
    private readonly RepositoryKeys _keys;
    private readonly TimeProvider _clock;
    private readonly bool _exclusive;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Task? _refresher;
    private string _name = "";

    private RepositoryLock(IBackupBackend backend, RepositoryKeys keys, TimeProvider clock, bool exclusive)
    {
        _backend = backend;
        _keys = keys;
        _clock = clock;
        _exclusive = exclusive;
    }

    /// <summary>The lock file's current name.</summary>
    public string Name => _name;

    public static async Task<RepositoryLock> AcquireAsync(IBackupBackend backend, RepositoryKeys keys, TimeProvider clock, bool exclusive, CancellationToken ct)
    {
        var held = new RepositoryLock(backend, keys, clock, exclusive);
        held._name = await WriteAsync(backend, keys, held.Info(), ct).ConfigureAwait(false);
        try
        {
            await foreach (var file in backend.ListAsync(FileKind.Lock, ct).ConfigureAwait(false))
            {
                if (file.Name == held._name) continue;
                var other = await TryReadAsync(backend, keys, file.Name, ct).ConfigureAwait(false);
                if (other is not null && other.IsStale(clock.GetUtcNow()))
                {
                    await backend.RemoveAsync(FileKind.Lock, file.Name, ct).ConfigureAwait(false);
                    continue;
                }

                if (other is null || other.Exclusive || exclusive)
                {
                    var who = other?.ToString() ?? $"an unreadable lock file '{file.Name}'";
                    throw new CesoException("RepositoryLocked", CesoErrorKind.InvalidState,
                        $"The backup repository '{backend.Location}' is locked by {who}. Wait for it to finish; a lock is stale {LockInfo.StaleAfter.TotalMinutes:0} minutes after its last refresh, or at once when its process is gone.")
                    { Target = backend.Location };
                }
            }
        }
        catch
        {
            await backend.RemoveAsync(FileKind.Lock, held._name, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        held._refresher = held.RefreshLoopAsync();
        return held;
    }

    /// <summary>Writes a lock file with the given content (also how tests plant foreign or stale locks).</summary>
    internal static async Task<string> WriteAsync(IBackupBackend backend, RepositoryKeys keys, LockInfo info, CancellationToken ct)
    {
        var (name, bytes) = SealedFile.Write(keys, Purpose, JsonSerializer.SerializeToUtf8Bytes(info, Json.Options));
        await backend.SaveAsync(FileKind.Lock, name, new MemoryStream(bytes), ct).ConfigureAwait(false);
        return name;
    }

    /// <summary>A lock file's content, or null when it cannot be read (damaged, or removed meanwhile).</summary>
    internal static async Task<LockInfo?> TryReadAsync(IBackupBackend backend, RepositoryKeys keys, string name, CancellationToken ct)
    {
        try
        {
            var bytes = await SealedFile.LoadAsync(backend, FileKind.Lock, name, ct).ConfigureAwait(false);
            return JsonSerializer.Deserialize<LockInfo>(SealedFile.Read(keys, Purpose, bytes, FileKind.Lock, name), Json.Options);
        }
        catch (Exception ex) when (ex is CesoException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Writes a fresh lock file and removes the previous one.</summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var old = _name;
            _name = await WriteAsync(_backend, _keys, Info(), ct).ConfigureAwait(false);
            if (old != _name) await _backend.RemoveAsync(FileKind.Lock, old, ct).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private LockInfo Info() => new(_clock.GetUtcNow(), _exclusive, Environment.MachineName, Environment.UserName, Environment.ProcessId);

    private async Task RefreshLoopAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(RefreshInterval, _stop.Token).ConfigureAwait(false);
                try
                {
                    await RefreshAsync(_stop.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or CesoException)
                {
                    // A failed refresh is retried at the next interval; the lock goes stale only after 30 minutes.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops refreshing and removes the lock file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_refresher is null) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _refresher.ConfigureAwait(false);
        _refresher = null;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            await _backend.RemoveAsync(FileKind.Lock, _name, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
            _stop.Dispose();
        }
    }
}
