using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Ceso.Engine;
using Ceso.Engine.Connection;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Xunit.Abstractions;

namespace Ceso.Tests.Integration;

/// <summary>
/// The one conformance suite of <see cref="IHostFiles"/>: every test runs over SOAP (datastore HTTP) and over SSH
/// against the test bed, and checks the bytes against the datastore directory behind the host.
/// </summary>
public abstract class HostFilesConformance(TestBed bed, ITestOutputHelper output, Transport transport) : IAsyncLifetime
{
    private const int MiB = 1 << 20;
    private CesoSession _session = null!;
    private string _folder = null!;

    private IHostFiles Files => _session.Files;

    private string LocalDir => bed.Info.Datastores[0].LocalDir;

    private string Local(DatastorePath p) => Path.Combine(LocalDir, p.Path);

    private DatastorePath Ds(string name) => new("datastore1", _folder + "/" + name);

    public async Task InitializeAsync()
    {
        _session = await bed.ConnectAsync(transport);
        _folder = $"files-{transport.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}";
        Directory.CreateDirectory(Path.Combine(LocalDir, _folder));
    }

    public async Task DisposeAsync()
    {
        await _session.DisposeAsync();
        Directory.Delete(Path.Combine(LocalDir, _folder), recursive: true);
    }

    private string[] FolderListing() => Directory.GetFiles(Path.Combine(LocalDir, _folder)).Select(Path.GetFileName).Order().ToArray()!;

    private byte[] RandomFile(string name, int size)
    {
        var bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        File.WriteAllBytes(Local(Ds(name)), bytes);
        return bytes;
    }

    private static async Task<byte[]> ReadAllAsync(Stream s)
    {
        using var ms = new MemoryStream();
        await s.CopyToAsync(ms);
        return ms.ToArray();
    }

    [Fact]
    public async Task The_session_chooses_files_on_its_transport()
    {
        Assert.Equal(transport == Transport.Ssh ? "ssh" : "soap", Files.Transport);
        Assert.Equal(_session.ActiveTransport == Transport.Ssh ? "ssh" : "soap", Files.Transport);
    }

    [Fact]
    public async Task Exists_stat_and_read_text_answer_for_a_file_and_fail_clearly_for_a_missing_one()
    {
        var text = "displayName = \"café 01\"\nmemSize = \"1024\"\n";
        await File.WriteAllTextAsync(Local(Ds("a.vmx")), text);
        var missing = Ds("missing.vmx");

        Assert.True(await Files.ExistsAsync(Ds("a.vmx")));
        Assert.True(await Files.ExistsAsync(new DatastorePath("datastore1", _folder)));
        Assert.False(await Files.ExistsAsync(missing));
        Assert.Equal(Encoding.UTF8.GetByteCount(text), (await Files.StatAsync(Ds("a.vmx"))).Size);
        Assert.Equal(text, await Files.ReadTextAsync(Ds("a.vmx")));
        Assert.Equal("FileNotFound", (await Assert.ThrowsAnyAsync<CesoException>(() => Files.StatAsync(missing))).ErrorId);
        Assert.Equal("FileNotFound", (await Assert.ThrowsAnyAsync<CesoException>(() => Files.OpenReadAsync(missing))).ErrorId);
        await File.WriteAllBytesAsync(Local(Ds("empty")), []);
        Assert.Equal(0, (await Files.StatAsync(Ds("empty"))).Size);
        await using (var s = await Files.OpenReadAsync(Ds("empty")))
        {
            Assert.Empty(await ReadAllAsync(s));
        }
    }

    [Fact]
    public async Task Ranged_reads_give_exactly_the_bytes_asked_for_at_aligned_and_unaligned_offsets()
    {
        var size = 3 * MiB + 123;
        var data = RandomFile("r.bin", size);
        (long Offset, long? Length)[] ranges =
        [
            (0, null), (0, 10), (1, 1), (MiB - 1, 2), (MiB, MiB), (MiB, 2 * MiB), (MiB + 1, 2 * MiB), (12345, null),
            (2 * MiB - 5, 10), (5, MiB - 10), (MiB - 7, MiB + 14), (3 * MiB, null), (3 * MiB + 1, 50), (size - 1, 1), (size - 1, null),
        ];
        foreach (var (offset, length) in ranges)
        {
            await using var s = await Files.OpenReadAsync(Ds("r.bin"), offset, length);
            var got = await ReadAllAsync(s);
            var expected = data.AsSpan((int)offset, (int)(length ?? size - offset)).ToArray();
            Assert.True(expected.AsSpan().SequenceEqual(got), $"range {offset}+{length?.ToString() ?? "end"}: {got.Length} bytes, expected {expected.Length}");
        }
    }

    [Fact]
    public async Task A_range_past_the_end_is_cut_at_the_last_byte_and_an_offset_past_the_end_is_an_error()
    {
        var data = RandomFile("end.bin", MiB + 10);

        await using (var s = await Files.OpenReadAsync(Ds("end.bin"), MiB, 100))
        {
            Assert.Equal(data[MiB..], await ReadAllAsync(s)); // short: 10 bytes
        }

        await using (var s = await Files.OpenReadAsync(Ds("end.bin"), MiB + 10))
        {
            Assert.Empty(await ReadAllAsync(s));
        }

        var e = await Assert.ThrowsAnyAsync<CesoException>(() => Files.OpenReadAsync(Ds("end.bin"), MiB + 11, 1));
        Assert.Equal("FileRangeNotSatisfiable", e.ErrorId);
        Assert.Contains("1048586 bytes", e.Message);
    }

    [Fact]
    public async Task A_stream_disposed_half_way_stops_the_transfer_and_the_next_call_works()
    {
        RandomFile("big.bin", 32 * MiB);
        var sw = Stopwatch.StartNew();
        await using (var s = await Files.OpenReadAsync(Ds("big.bin")))
        {
            var buffer = new byte[64 * 1024];
            await s.ReadExactlyAsync(buffer);
        }

        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"disposing took {sw.Elapsed}");
        Assert.True(await Files.ExistsAsync(Ds("big.bin")));
    }

    [Fact]
    public async Task Write_then_read_back_gives_the_same_bytes_replaces_the_target_and_leaves_no_temporary_file()
    {
        var payload = new byte[5 * MiB + 17];
        new Random(7).NextBytes(payload);
        await File.WriteAllTextAsync(Local(Ds("w.bin")), "old content");
        long reported = 0;
        var progress = new SyncProgress(n => reported = n);

        await Files.WriteAsync(Ds("w.bin"), new MemoryStream(payload), payload.Length, progress);
        await Files.WriteAsync(Ds("u.bin"), new OneWayStream(new MemoryStream(payload)), null); // length unknown, not seekable

        Assert.Equal(payload.Length, reported);
        foreach (var name in new[] { "w.bin", "u.bin" })
        {
            await using var s = await Files.OpenReadAsync(Ds(name));
            var back = await ReadAllAsync(s);
            Assert.True(payload.AsSpan().SequenceEqual(back), name);
            Assert.Equal(payload, await File.ReadAllBytesAsync(Local(Ds(name))));
        }

        Assert.Equal(["u.bin", "w.bin"], FolderListing());
        await Files.DeleteAsync(Ds("u.bin"));
        await Files.DeleteAsync(Ds("u.bin")); // not there any more: not an error
        Assert.Equal(["w.bin"], FolderListing());
    }

    [Fact]
    public async Task A_small_binary_file_with_every_byte_value_is_written_exactly()
    {
        // What an .nvram is: small, binary. Over SSH it goes through the persistent shell's printf, escaped.
        var payload = Enumerable.Range(0, 8200).Select(i => (byte)(i * 37 % 256)).Concat("%s%%\\n'\"$(x)`\0"u8.ToArray()).ToArray();
        await Files.WriteAsync(Ds("vm.nvram"), new MemoryStream(payload), payload.Length);
        Assert.Equal(payload, await File.ReadAllBytesAsync(Local(Ds("vm.nvram"))));
        Assert.Equal(["vm.nvram"], FolderListing());
    }

    [Fact]
    public async Task A_source_that_fails_mid_write_leaves_no_temporary_file_and_the_target_as_it_was()
    {
        await File.WriteAllTextAsync(Local(Ds("keep.vmx")), "old content");

        await Assert.ThrowsAnyAsync<Exception>(() => Files.WriteAsync(Ds("keep.vmx"), new FailingStream(3 * MiB, failWrites: false), 8 * MiB));
        await Assert.ThrowsAnyAsync<Exception>(() => Files.WriteAsync(Ds("new.vmx"), new FailingStream(3 * MiB, failWrites: false), null));
        var announced = await Assert.ThrowsAnyAsync<CesoException>(() => Files.WriteAsync(Ds("short.vmx"), new OneWayStream(new MemoryStream(new byte[1000])), 2000));

        await Task.Delay(300); // a remote side that was still writing has had time to stop
        Assert.Equal(["keep.vmx"], FolderListing());
        Assert.Equal("old content", await File.ReadAllTextAsync(Local(Ds("keep.vmx"))));
        output.WriteLine($"announced-length mismatch: {announced.ErrorId}: {announced.Message}");
    }

    /// <summary>
    /// A 2 GiB + 3 MiB sparse flat disk with marks on both sides of 2^31, streamed out through OpenReadAsync into a
    /// hash and back in through WriteAsync from a file stream: hashes equal, the working set does not grow with the file.
    /// </summary>
    [Fact]
    public async Task A_sparse_disk_over_2_GiB_streams_out_and_back_in_with_flat_memory()
    {
        const long size = (2L << 30) + 3 * MiB;
        long[] marks = [0, MiB + 7, (1L << 31) - 3, (1L << 31) + MiB + 5, size - 100];
        var disk = Ds("big-flat.vmdk");
        await using (var f = new FileStream(Local(disk), FileMode.CreateNew))
        {
            f.SetLength(size);
            foreach (var m in marks)
            {
                f.Position = m;
                f.Write(Encoding.ASCII.GetBytes($"CESO MARK @{m}\n"));
            }
        }

        var expected = HashLocal(Local(disk));
        Assert.Equal(size, (await Files.StatAsync(disk)).Size);

        // a ranged read across 2^31
        await using (var s = await Files.OpenReadAsync(disk, (1L << 31) - 3, 40))
        {
            var got = Encoding.ASCII.GetString(await ReadAllAsync(s));
            Assert.StartsWith($"CESO MARK @{(1L << 31) - 3}\n", got);
            Assert.Equal(40, got.Length);
        }

        var (readHash, readFigures) = await MeasureAsync(async () =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using var s = await Files.OpenReadAsync(disk);
            var buffer = new byte[MiB];
            int n;
            while ((n = await s.ReadAsync(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, n);
            }

            return Convert.ToHexString(hash.GetHashAndReset());
        });
        Report("read ", size, readFigures);
        Assert.Equal(expected, readHash);

        var copy = Ds("copy-flat.vmdk");
        var (_, writeFigures) = await MeasureAsync(async () =>
        {
            await using var source = new FileStream(Local(disk), FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            await Files.WriteAsync(copy, source, size);
            return "";
        });
        Report("write", size, writeFigures);
        File.Delete(Local(disk));
        Assert.Equal(expected, HashLocal(Local(copy)));
        Assert.Equal(["copy-flat.vmdk"], FolderListing());
        File.Delete(Local(copy));

        Assert.True(readFigures.Growth < 200 * MiB, $"working set grew by {readFigures.Growth / MiB} MiB while reading");
        Assert.True(writeFigures.Growth < 200 * MiB, $"working set grew by {writeFigures.Growth / MiB} MiB while writing");
        Assert.True(readFigures.Elapsed < TimeSpan.FromSeconds(90) && writeFigures.Elapsed < TimeSpan.FromSeconds(90), "a transfer took over 90 s");
    }

    private void Report(string what, long size, Figures f) =>
        output.WriteLine(FormattableString.Invariant(
            $"{transport} {what} {size / (double)(1 << 30):0.000} GiB in {f.Elapsed.TotalSeconds:0.0} s = {size / f.Elapsed.TotalSeconds / MiB:0} MiB/s; working set {f.Before / MiB} MiB before, max {f.Max / MiB} MiB during (growth {f.Growth / MiB} MiB); PeakWorkingSet64 {f.PeakBefore / MiB} -> {f.PeakAfter / MiB} MiB"));

    private sealed record Figures(TimeSpan Elapsed, long Before, long Max, long PeakBefore, long PeakAfter)
    {
        public long Growth => Max - Before;
    }

    private static async Task<(T Result, Figures Figures)> MeasureAsync<T>(Func<Task<T>> transfer)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var before = self.WorkingSet64;
        var peakBefore = self.PeakWorkingSet64;
        var max = before;
        using var done = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            using var p = Process.GetCurrentProcess();
            while (!done.IsCancellationRequested)
            {
                p.Refresh();
                max = Math.Max(max, p.WorkingSet64);
                try
                {
                    await Task.Delay(50, done.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
        var sw = Stopwatch.StartNew();
        var result = await transfer();
        sw.Stop();
        done.Cancel();
        await sampler;
        self.Refresh();
        max = Math.Max(max, self.WorkingSet64);
        return (result, new Figures(sw.Elapsed, before, max, peakBefore, self.PeakWorkingSet64));
    }

    private static string HashLocal(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        return Convert.ToHexString(SHA256.HashData(f));
    }

    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }

    /// <summary>A stream that is neither seekable nor of known length (a pipe, a decompressor).</summary>
    private sealed class OneWayStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SoapHostFilesTests(TestBed bed, ITestOutputHelper output) : HostFilesConformance(bed, output, Transport.Soap);

[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SshHostFilesTests(TestBed bed, ITestOutputHelper output) : HostFilesConformance(bed, output, Transport.Ssh);
