using System.Runtime.CompilerServices;
using Ceso.Engine;
using Ceso.Engine.Backup;

namespace Ceso.Tests.Backup;

/// <summary>The retry decorator over a backend that fails the way a remote one does (transient, hung, or for good).</summary>
public sealed class RetryingBackendTests : IDisposable
{
    private readonly TempRepo _repo = new();
    private readonly List<TimeSpan> _waits = [];

    public void Dispose() => _repo.Dispose();

    private RetryingBackend Retrying(IBackupBackend inner, int attempts = 5, TimeSpan? callTimeout = null) =>
        new(inner, new RetryPolicy { Attempts = attempts, FirstDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(250), CallTimeout = callTimeout ?? TimeSpan.FromSeconds(20) },
            (wait, _) =>
            {
                lock (_waits) _waits.Add(wait);
                return Task.CompletedTask;
            });

    [Fact(Timeout = 30_000)]
    public async Task A_save_that_fails_transiently_is_sent_again_from_its_start_and_lands_whole()
    {
        var flaky = new FlakyBackend(_repo.Backend) { FailNext = 3, FailAfterBytes = 10 };
        var b = Retrying(flaky);
        var data = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();

        await b.SaveAsync(FileKind.Pack, new string('a', 64), new MemoryStream(data));

        Assert.Equal(4, flaky.Calls);
        Assert.Equal(3, b.Retries);
        await using var s = await b.OpenAsync(FileKind.Pack, new string('a', 64));
        var back = new MemoryStream();
        await s.CopyToAsync(back);
        Assert.Equal(data, back.ToArray());
        Assert.Equal(3, _waits.Count);
        Assert.All(_waits, w => Assert.InRange(w.TotalMilliseconds, 75, 320)); // 100, 200, 250 (the cap), each ±25 %
    }

    [Fact(Timeout = 30_000)]
    public async Task Errors_that_are_not_transient_pass_at_once_and_a_lasting_outage_gives_up_after_the_attempts()
    {
        var flaky = new FlakyBackend(_repo.Backend) { FailNext = 100 };
        var b = Retrying(flaky, attempts: 4);

        var down = await Assert.ThrowsAsync<CesoException>(() => b.StatAsync(FileKind.Index, "abcd"));
        Assert.Equal("RepositoryUnavailable", down.ErrorId);
        Assert.Equal(4, flaky.Calls);

        flaky.FailNext = 0;
        var missing = await Assert.ThrowsAsync<CesoException>(() => b.OpenAsync(FileKind.Index, "abcd", 0, 2));
        Assert.Equal("RepositoryFileMissing", missing.ErrorId);
        Assert.Equal(3, b.Retries); // the missing file was not retried
    }

    [Fact(Timeout = 30_000)]
    public async Task A_read_cut_off_mid_stream_is_read_again_and_the_caller_sees_only_whole_data()
    {
        var data = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
        await _repo.Backend.SaveAsync(FileKind.Pack, new string('b', 64), new MemoryStream(data));
        var flaky = new FlakyBackend(_repo.Backend) { FailNext = 2, FailAfterBytes = 1000 };
        var b = Retrying(flaky);

        await using var s = await b.OpenAsync(FileKind.Pack, new string('b', 64), 100, 200_000);
        var got = new byte[200_000];
        await s.ReadExactlyAsync(got);

        Assert.Equal(data.AsSpan(100, 200_000).ToArray(), got);
        Assert.Equal(2, b.Retries);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_hung_call_times_out_and_is_retried_while_the_callers_own_cancellation_is_not()
    {
        var flaky = new FlakyBackend(_repo.Backend) { HangNext = 1 };
        var b = Retrying(flaky, callTimeout: TimeSpan.FromMilliseconds(300));

        Assert.Null(await b.StatAsync(FileKind.Index, "abcd"));
        Assert.Equal(1, b.Retries);

        flaky.HangNext = 1;
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Retrying(flaky, callTimeout: TimeSpan.FromSeconds(10)).StatAsync(FileKind.Index, "abcd", cts.Token));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_listing_cut_off_half_way_starts_again_and_gives_each_name_once()
    {
        for (var i = 0; i < 10; i++)
        {
            await _repo.Backend.SaveAsync(FileKind.Index, $"index{i:00}", new MemoryStream([1, 2, (byte)i]));
        }

        var flaky = new FlakyBackend(_repo.Backend) { FailListAfter = 4, FailNext = 2 };
        var b = Retrying(flaky);

        var names = await b.ListAsync(FileKind.Index).Select(f => f.Name).ToListAsync();

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"index{i:00}").Order(), names.Order());
        Assert.Equal(2, b.Retries);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_repository_over_a_backend_that_drops_every_third_call_backs_up_restores_and_checks_clean()
    {
        var flaky = new FlakyBackend(_repo.Backend) { FailEvery = 3, FailAfterBytes = 50 };
        var b = Retrying(flaky, attempts: 4);
        var repo = await BackupRepository.InitAsync(b, TempRepo.Password, TempRepo.Options);
        var disk = Disks.Synthetic(9, 4 << 20);

        var snap = await Disks.BackupAsync(repo, disk);
        var reopened = await BackupRepository.OpenAsync(b, TempRepo.Password);

        Assert.True((await Disks.RestoreAsync(reopened, (await reopened.LoadSnapshotAsync(snap.Id)).Disks[0])).AsSpan().SequenceEqual(disk));
        Assert.Empty((await reopened.CheckAsync(new CheckOptions { ReadData = true })).Problems);
        Assert.True(b.Retries > 5, $"only {b.Retries} retries: the fault did not bite");
        Assert.Empty(Directory.EnumerateFiles(_repo.Path, ".tmp-*", SearchOption.AllDirectories));
    }

    /// <summary>A backend whose next calls fail with RepositoryUnavailable (after some bytes of a save or read), or hang.</summary>
    private sealed class FlakyBackend(IBackupBackend inner) : IBackupBackend
    {
        private int _calls;

        public int FailNext { get; set; }

        public int HangNext { get; set; }

        public int FailEvery { get; set; }

        public long FailAfterBytes { get; set; }

        public int FailListAfter { get; set; } = -1;

        public int Calls => _calls;

        public string Location => inner.Location;

        private bool Fails()
        {
            var n = Interlocked.Increment(ref _calls);
            if (FailEvery > 0)
            {
                return n % FailEvery == 0;
            }

            lock (this)
            {
                if (FailNext <= 0) return false;
                FailNext--;
                return true;
            }
        }

        private async Task HangAsync(CancellationToken ct)
        {
            bool hang;
            lock (this)
            {
                hang = HangNext > 0;
                if (hang) HangNext--;
            }

            if (hang) await Task.Delay(Timeout.Infinite, ct);
        }

        private CesoException Dropped() => new("RepositoryUnavailable", CesoErrorKind.Connection, "injected: connection dropped");

        public async Task SaveAsync(FileKind kind, string name, Stream data, CancellationToken ct = default)
        {
            await HangAsync(ct);
            await inner.SaveAsync(kind, name, Fails() ? new DroppingStream(data, FailAfterBytes, Dropped()) : data, ct);
        }

        public async Task<Stream> OpenAsync(FileKind kind, string name, long offset = 0, long? length = null, CancellationToken ct = default)
        {
            await HangAsync(ct);
            var fails = Fails();
            var s = await inner.OpenAsync(kind, name, offset, length, ct);
            return fails ? new DroppingStream(s, FailAfterBytes, Dropped()) : s;
        }

        public async Task<long?> StatAsync(FileKind kind, string name, CancellationToken ct = default)
        {
            await HangAsync(ct);
            return Fails() ? throw Dropped() : await inner.StatAsync(kind, name, ct);
        }

        public async IAsyncEnumerable<BackendFile> ListAsync(FileKind kind, [EnumeratorCancellation] CancellationToken ct = default)
        {
            var fails = Fails();
            var given = 0;
            await foreach (var f in inner.ListAsync(kind, ct))
            {
                if (fails && given == Math.Max(0, FailListAfter)) throw Dropped();
                given++;
                yield return f;
            }
        }

        public async Task RemoveAsync(FileKind kind, string name, CancellationToken ct = default)
        {
            await HangAsync(ct);
            if (Fails()) throw Dropped();
            await inner.RemoveAsync(kind, name, ct);
        }
    }

    /// <summary>Gives <c>after</c> bytes, then throws, as a connection dropped in the middle of a transfer.</summary>
    private sealed class DroppingStream(Stream inner, long after, Exception failure) : Stream
    {
        private long _done;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _done; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_done >= after) throw failure;
            var n = inner.Read(buffer, offset, (int)Math.Min(count, after - _done));
            _done += n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_done >= after) throw failure;
            var n = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, after - _done)], cancellationToken);
            _done += n;
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
