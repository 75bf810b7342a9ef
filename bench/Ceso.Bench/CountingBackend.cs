// A decorator of IBackupBackend for BENCH=backends: it counts the calls the repository makes, by kind of call and kind
// of file, and the bytes saved and read. It sits outside RetryingBackend, so it counts the repository's logical calls
// (a retried save is one save here); the wire counters (BackendsWire.cs) see what actually crossed.
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Ceso.Engine.Backup;

namespace Ceso.Bench;

/// <summary>What a <see cref="CountingBackend"/> saw: calls by "Op kind" (e.g. "save Pack") and the bytes.</summary>
internal sealed record BackendCounts(IReadOnlyDictionary<string, long> Calls, long BytesSaved, long BytesRead)
{
    public long TotalCalls => Calls.Values.Sum();

    /// <summary>"save 12, open 30, stat 40, list 6, remove 2" (by call, all file kinds together).</summary>
    public string ByOp() => string.Join(", ", Calls.GroupBy(c => c.Key.Split(' ')[0]).OrderByDescending(g => g.Sum(x => x.Value))
        .Select(g => $"{g.Key} {g.Sum(x => x.Value)}"));
}

internal sealed class CountingBackend(IBackupBackend inner) : IBackupBackend, IDisposable, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, long> _calls = new(StringComparer.Ordinal);
    private long _saved;
    private long _read;

    public string Location => inner.Location;

    public BackendCounts Counts => new(new Dictionary<string, long>(_calls), Interlocked.Read(ref _saved), Interlocked.Read(ref _read));

    private void Count(string op, FileKind kind) => _calls.AddOrUpdate($"{op} {kind}", 1, (_, n) => n + 1);

    public async Task SaveAsync(FileKind kind, string name, Stream data, CancellationToken ct = default)
    {
        Count("save", kind);
        // A seekable stream is passed through as it is (RetryingBackend rewinds it to send it again); only its length counts.
        if (data.CanSeek)
        {
            var length = data.Length - data.Position;
            await inner.SaveAsync(kind, name, data, ct).ConfigureAwait(false);
            Interlocked.Add(ref _saved, length);
            return;
        }

        await using var counted = new CountingStream(data, n => Interlocked.Add(ref _saved, n));
        await inner.SaveAsync(kind, name, counted, ct).ConfigureAwait(false);
    }

    public async Task<Stream> OpenAsync(FileKind kind, string name, long offset = 0, long? length = null, CancellationToken ct = default)
    {
        Count("open", kind);
        return new CountingStream(await inner.OpenAsync(kind, name, offset, length, ct).ConfigureAwait(false), n => Interlocked.Add(ref _read, n));
    }

    public Task<long?> StatAsync(FileKind kind, string name, CancellationToken ct = default)
    {
        Count("stat", kind);
        return inner.StatAsync(kind, name, ct);
    }

    public async IAsyncEnumerable<BackendFile> ListAsync(FileKind kind, [EnumeratorCancellation] CancellationToken ct = default)
    {
        Count("list", kind);
        await foreach (var f in inner.ListAsync(kind, ct).ConfigureAwait(false))
        {
            yield return f;
        }
    }

    public Task RemoveAsync(FileKind kind, string name, CancellationToken ct = default)
    {
        Count("remove", kind);
        return inner.RemoveAsync(kind, name, ct);
    }

    public void Dispose() => (inner as IDisposable)?.Dispose();

    public async ValueTask DisposeAsync()
    {
        if (inner is IAsyncDisposable a)
        {
            await a.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            (inner as IDisposable)?.Dispose();
        }
    }

    // Read-only pass-through that reports every byte read from it.
    private sealed class CountingStream(Stream inner, Action<long> add) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Add(inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Add(inner.Read(buffer));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => Add(await inner.ReadAsync(buffer, ct).ConfigureAwait(false));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        private int Add(int n)
        {
            add(n);
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
