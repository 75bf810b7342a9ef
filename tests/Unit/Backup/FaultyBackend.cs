using System.Runtime.CompilerServices;
using Ceso.Engine.Backup;

namespace Ceso.Tests.Backup;

/// <summary>
/// A decorator that makes the N-th change (save or remove) fail, as a crash at that point would: a save fails
/// half-way through its data (the inner backend sees a stream that breaks), a remove fails before removing.
/// </summary>
public sealed class FaultyBackend(IBackupBackend inner) : IBackupBackend
{
    private int _changes;

    /// <summary>The 1-based number of the change that fails; 0 = none.</summary>
    public int FailAt { get; set; }

    /// <summary>Only changes of this kind count (null: all).</summary>
    public FileKind? Only { get; set; }

    public int Changes => _changes;

    public string Location => inner.Location;

    public List<string> Log { get; } = [];

    public Task SaveAsync(FileKind kind, string name, Stream data, CancellationToken ct = default)
    {
        var fails = Fails(kind);
        lock (Log) Log.Add($"{kind} {name} {data.Length} {fails}");
        return fails ? inner.SaveAsync(kind, name, new BreakingStream(data), ct) : inner.SaveAsync(kind, name, data, ct);
    }

    public Task<Stream> OpenAsync(FileKind kind, string name, long offset = 0, long? length = null, CancellationToken ct = default) =>
        inner.OpenAsync(kind, name, offset, length, ct);

    public Task<long?> StatAsync(FileKind kind, string name, CancellationToken ct = default) => inner.StatAsync(kind, name, ct);

    public async IAsyncEnumerable<BackendFile> ListAsync(FileKind kind, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var f in inner.ListAsync(kind, ct)) yield return f;
    }

    public Task RemoveAsync(FileKind kind, string name, CancellationToken ct = default) =>
        Fails(kind) ? throw new IOException($"injected failure removing {kind} {name}") : inner.RemoveAsync(kind, name, ct);

    private bool Fails(FileKind kind)
    {
        if (kind == FileKind.Lock || (Only is { } only && only != kind)) return false;
        return Interlocked.Increment(ref _changes) == FailAt;
    }

    private sealed class BreakingStream(Stream inner) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_read > 0) throw new IOException("injected failure in the middle of a save");
            var n = inner.Read(buffer, offset, Math.Min(count, 100));
            _read += n;
            return n;
        }
    }
}
