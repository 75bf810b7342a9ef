using System.Diagnostics;
using Ceso.Engine;
using Ceso.Engine.Backup;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Hosts.DiskIo;
using Xunit.Abstractions;

namespace Ceso.Tests.Integration.DiskIo;

/// <summary>
/// The disk block readers against the test bed, both paths, on sparse disks in the datastore: what they yield is
/// checked against a local read of the same file.
/// </summary>
[Collection(TestBedCollection.Name)]
public sealed class DiskBlockReaderTests(TestBed bed, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly IReadOnlySet<BlockHash> None = new HashSet<BlockHash>();

    public Task InitializeAsync()
    {
        bed.ClearFaults();
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        bed.ClearFaults();
        return Task.CompletedTask;
    }

    [Fact(Timeout = 120_000)]
    public async Task The_host_helper_yields_exactly_the_non_zero_blocks_and_hashes_of_a_2_GiB_sparse_disk()
    {
        var disk = DiskImage.Mixed(bed);
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var reader = DiskBlockIo.ReaderFor(session.Host);
        var progress = new LastProgress();

        var got = await ReadAllAsync(reader, disk, None, progress);

        Assert.Equal(DiskBlockIo.HostHelper, reader.PathUsed);
        Assert.Equal(disk.Blocks, got.Select(b => (b.Index, b.Hash)).ToList());
        Assert.All(got, b => Assert.Equal(b.Hash, b.DataHash));
        Assert.Contains(got, b => b.Length == 4608); // the short last block
        var p = progress.Last!.Value;
        Assert.Equal(disk.Capacity, p.BytesScanned);
        Assert.Equal(disk.Blocks.Count, p.BlocksSent);
        Assert.Equal(0, p.KnownBlocks);
        Assert.Equal(2049 - disk.Blocks.Count, p.ZeroBlocks);
        Assert.InRange(p.WireBytes, disk.DataBytes, disk.DataBytes + 64L * 2049 + 4096); // frames, no holes
        output.WriteLine($"{disk.Blocks.Count} blocks, {disk.DataBytes} data bytes, {p.WireBytes} bytes on the wire");
    }

    [Fact(Timeout = 180_000)]
    public async Task The_plain_stream_over_the_api_yields_the_same_blocks_and_counts_every_byte_as_wire()
    {
        var disk = DiskImage.Mixed(bed);
        await using var session = await bed.ConnectAsync(Transport.Soap);
        var reader = DiskBlockIo.ReaderFor(session.Host);
        var progress = new LastProgress();

        var got = await ReadAllAsync(reader, disk, None, progress);

        Assert.Equal(DiskBlockIo.PlainStream, reader.PathUsed);
        Assert.Contains("no SSH", reader.PathReason);
        Assert.Equal(disk.Blocks, got.Select(b => (b.Index, b.Hash)).ToList());
        Assert.All(got, b => Assert.Equal(b.Hash, b.DataHash));
        Assert.Equal(disk.Capacity, progress.Last!.Value.WireBytes);
    }

    [Fact(Timeout = 120_000)]
    public async Task Known_blocks_come_without_data_and_cost_no_wire_bytes_on_the_helper_path()
    {
        var disk = DiskImage.Mixed(bed);
        var known = disk.Blocks.Where((_, i) => i % 2 == 0).Select(b => b.Hash).Append(BlockHash.Of([1, 2, 3])).ToHashSet();
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var reader = DiskBlockIo.ReaderFor(session.Host);
        var progress = new LastProgress();

        var got = await ReadAllAsync(reader, disk, known, progress);

        Assert.Equal(disk.Blocks, got.Select(b => (b.Index, b.Hash)).ToList());
        Assert.All(got, b => Assert.Equal(known.Contains(b.Hash), b.DataHash is null));
        var unknownBytes = got.Where(b => b.DataHash is not null).Sum(b => (long)b.Length);
        var p = progress.Last!.Value;
        Assert.Equal(got.Count(b => b.DataHash is null), p.KnownBlocks);
        Assert.Equal(got.Count(b => b.DataHash is not null), p.BlocksSent);
        Assert.InRange(p.WireBytes, unknownBytes, unknownBytes + 64L * 2049 + 4096);
        output.WriteLine($"wire bytes with {known.Count} known hashes: {p.WireBytes} (data of the unknown blocks: {unknownBytes}; all data: {disk.DataBytes})");
    }

    [Theory(Timeout = 120_000)]
    [InlineData("off", "not found")]
    [InlineData("refused", "refused")]
    public async Task Without_a_usable_python_the_reader_falls_back_to_the_plain_stream_and_says_why(string fault, string reason)
    {
        var disk = DiskImage.Small(bed);
        var known = new HashSet<BlockHash> { disk.Blocks[0].Hash };
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        bed.Fault("python=" + fault);
        var reader = DiskBlockIo.ReaderFor(session.Host);

        var got = await ReadAllAsync(reader, disk, known, null);

        Assert.Equal(DiskBlockIo.PlainStream, reader.PathUsed);
        Assert.Contains(reason, reader.PathReason);
        Assert.Equal(disk.Blocks, got.Select(b => (b.Index, b.Hash)).ToList());
        Assert.All(got, b => Assert.Equal(known.Contains(b.Hash), b.DataHash is null));

        // the verdict is kept for the session: python is not asked again, even once it would work
        bed.ClearFaults();
        var mark = bed.Calls().Count;
        var again = DiskBlockIo.ReaderFor(session.Host);
        Assert.Equal(disk.Blocks.Count, (await ReadAllAsync(again, disk, None, null)).Count);
        Assert.Equal(DiskBlockIo.PlainStream, again.PathUsed);
        Assert.DoesNotContain(bed.CallsSince(mark), c => c.Name.StartsWith("python", StringComparison.Ordinal));

        // a new session tries the helper again
        await using var fresh = await bed.ConnectAsync(Transport.Ssh);
        var helper = DiskBlockIo.ReaderFor(fresh.Host);
        Assert.Equal(disk.Blocks, (await ReadAllAsync(helper, disk, None, null)).Select(b => (b.Index, b.Hash)).ToList());
        Assert.Equal(DiskBlockIo.HostHelper, helper.PathUsed);
    }

    [Theory(Timeout = 120_000)]
    [InlineData(5L)] // before the helper's hello: an error, not a fallback
    [InlineData(3L << 20)] // in the middle of the data
    public async Task A_connection_dropped_mid_stream_raises_an_error_instead_of_a_short_disk(long afterBytes)
    {
        var disk = DiskImage.Mixed(bed);
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        bed.Fault("dropSshAfterBytes=" + afterBytes);
        var reader = DiskBlockIo.ReaderFor(session.Host);
        var count = 0;

        var e = await Assert.ThrowsAnyAsync<CesoException>(async () =>
        {
            await foreach (var _ in reader.ReadAsync(disk.Path, disk.Capacity, disk.BlockSize, None, null, CancellationToken.None))
            {
                count++;
            }
        });

        Assert.Equal(CesoErrorKind.Connection, e.Kind);
        Assert.True(count < disk.Blocks.Count, $"{count} blocks came before the error");
        output.WriteLine($"{e.ErrorId}: {e.Message}");
    }

    [Fact(Timeout = 120_000)]
    public async Task A_helper_killed_on_the_host_raises_an_error_because_its_trailer_never_came()
    {
        var disk = DiskImage.Mixed(bed);
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var reader = DiskBlockIo.ReaderFor(session.Host);
        var count = 0;

        var e = await Assert.ThrowsAnyAsync<CesoException>(async () =>
        {
            await foreach (var _ in reader.ReadAsync(disk.Path, disk.Capacity, disk.BlockSize, None, null, CancellationToken.None))
            {
                if (++count == 2)
                {
                    var helpers = HostHelpers();
                    Assert.NotEmpty(helpers);
                    foreach (var pid in helpers)
                    {
                        TestBed.Run("kill", ["-KILL", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                    }
                }
            }
        });

        Assert.Equal("DiskStreamIncomplete", e.ErrorId);
        Assert.Contains("exit code 137", e.Message);
    }

    [Fact(Timeout = 120_000)]
    public async Task Cancelling_a_read_stops_the_helper_on_the_host()
    {
        var disk = DiskImage.Mixed(bed);
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var reader = DiskBlockIo.ReaderFor(session.Host);
        using var cts = new CancellationTokenSource();
        var running = 0;
        // Watched from the start of the read, not only at the first block: on a loaded machine the first block can
        // arrive after a look at /proc would have found the helper (CI once saw none at that moment).
        using var watching = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!watching.IsCancellationRequested)
            {
                running = Math.Max(running, HostHelpers().Count);
                await Task.Delay(10);
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in reader.ReadAsync(disk.Path, disk.Capacity, disk.BlockSize, None, null, cts.Token))
            {
                running = Math.Max(running, HostHelpers().Count);
                cts.Cancel();
            }
        });

        await watching.CancelAsync();
        await watcher;
        Assert.True(running > 0, "no helper process ran on the host during the read");
        var sw = Stopwatch.StartNew();
        while (HostHelpers().Count > 0 && sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        Assert.Empty(HostHelpers());
        output.WriteLine($"the helper was gone {sw.ElapsedMilliseconds} ms after the read was cancelled");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_flat_or_a_wrong_capacity_is_an_error_on_both_paths()
    {
        var disk = DiskImage.Small(bed);
        await using var ssh = await bed.ConnectAsync(Transport.Ssh);
        await using var soap = await bed.ConnectAsync(Transport.Soap);
        foreach (var session in new[] { ssh, soap })
        {
            var reader = DiskBlockIo.ReaderFor(session.Host);
            var missing = disk.Path with { Path = disk.Path.Path + ".nope" };
            Assert.Equal("FileNotFound", (await Assert.ThrowsAnyAsync<CesoException>(() => ReadAllAsync(reader, disk with { Path = missing }, None, null))).ErrorId);
            Assert.Equal("DiskSizeMismatch", (await Assert.ThrowsAnyAsync<CesoException>(() => ReadAllAsync(reader, disk with { Capacity = disk.Capacity - 512 }, None, null))).ErrorId);
        }
    }

    /// <summary>Processes on the (local) test bed host that run the disk helper ("ceso-diskio" is in their command line).</summary>
    internal static List<int> HostHelpers()
    {
        var list = new List<int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(dir, "cmdline")).Contains("ceso-diskio", StringComparison.Ordinal)
                        && !File.ReadAllText(Path.Combine(dir, "comm")).StartsWith("ssh", StringComparison.Ordinal))
                    {
                        list.Add(pid);
                    }
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }

        return list;
    }

    internal static async Task<List<Got>> ReadAllAsync(IDiskBlockReader reader, DiskImage disk, IReadOnlySet<BlockHash> known, IProgress<DiskIoProgress>? progress)
    {
        var list = new List<Got>();
        await foreach (var b in reader.ReadAsync(disk.Path, disk.Capacity, disk.BlockSize, known, progress, CancellationToken.None))
        {
            var length = (int)Math.Min(disk.BlockSize, disk.Capacity - b.Index * disk.BlockSize);
            if (b.Data is { } d)
            {
                Assert.Equal(length, d.Length);
            }

            list.Add(new Got(b.Index, b.Hash, b.Data is { } data ? BlockHash.Of(data.Span) : null, length));
        }

        return list;
    }

    internal sealed record Got(long Index, BlockHash Hash, BlockHash? DataHash, int Length);

    /// <summary>Keeps the last report (synchronously, unlike Progress&lt;T&gt;).</summary>
    internal sealed class LastProgress : IProgress<DiskIoProgress>
    {
        public DiskIoProgress? Last { get; private set; }

        public int Reports { get; private set; }

        public void Report(DiskIoProgress value)
        {
            Last = value;
            Reports++;
        }
    }
}
