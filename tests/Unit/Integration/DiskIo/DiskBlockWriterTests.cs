using System.Globalization;
using Ceso.Engine;
using Ceso.Engine.Backup;
using Ceso.Engine.Connection;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Hosts.DiskIo;
using Ceso.Engine.Shell;
using Xunit.Abstractions;

namespace Ceso.Tests.Integration.DiskIo;

/// <summary>
/// The disk block writers against the test bed: blocks restored into a thin flat made by <c>vmkfstools -c -d thin</c>
/// give a file byte-identical to the source whose allocated size is its data, not its capacity.
/// </summary>
[Collection(TestBedCollection.Name)]
public sealed class DiskBlockWriterTests(TestBed bed, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _folder = "diskio-dst-" + Guid.NewGuid().ToString("N")[..8];

    private string LocalDir => System.IO.Path.Combine(bed.Info.Datastores[0].LocalDir, _folder);

    public Task InitializeAsync()
    {
        bed.ClearFaults();
        Directory.CreateDirectory(LocalDir);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        bed.ClearFaults();
        Directory.Delete(LocalDir, recursive: true);
        return Task.CompletedTask;
    }

    [Theory(Timeout = 180_000)]
    [InlineData("", DiskBlockIo.HostHelper)]
    [InlineData("off", DiskBlockIo.DdRuns)]
    [InlineData("refused", DiskBlockIo.DdRuns)]
    public async Task Restored_blocks_make_a_byte_identical_disk_that_stays_thin(string pythonFault, string path)
    {
        var disk = DiskImage.Mixed(bed);
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var target = await CreateThinAsync(session, "r", disk.Capacity);
        if (pythonFault.Length > 0)
        {
            bed.Fault("python=" + pythonFault);
        }

        var writer = DiskBlockIo.WriterFor(session.Host);
        var progress = new DiskBlockReaderTests.LastProgress();

        await writer.WriteAsync(target.Path, disk.Capacity, disk.BlockSize, DiskImage.LocalData(disk.LocalPath, disk.Capacity, disk.BlockSize), progress, CancellationToken.None);

        Assert.Equal(path, writer.PathUsed);
        Assert.True(DiskImage.SameBytes(disk.LocalPath, target.Local), "the restored disk differs from the source");
        var allocated = DiskImage.Allocated(target.Local);
        Assert.InRange(allocated, disk.DataBytes / 2, disk.DataBytes + (1 << 20));
        Assert.Equal(disk.Blocks.Count, progress.Last!.Value.BlocksSent);
        output.WriteLine($"{writer.PathUsed} ({writer.PathReason}): {disk.Blocks.Count} blocks, data {disk.DataBytes} bytes, allocated {allocated} bytes of a {disk.Capacity}-byte disk");
    }

    [Fact(Timeout = 180_000)]
    public async Task A_disk_read_by_the_helper_can_be_written_back_block_by_block_as_it_is_read()
    {
        var disk = DiskImage.Mixed(bed);
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var target = await CreateThinAsync(session, "rr", disk.Capacity);
        var reader = DiskBlockIo.ReaderFor(session.Host);

        await DiskBlockIo.WriterFor(session.Host).WriteAsync(target.Path, disk.Capacity, disk.BlockSize,
            Data(reader.ReadAsync(disk.Path, disk.Capacity, disk.BlockSize, new HashSet<BlockHash>(), null, CancellationToken.None)), null, CancellationToken.None);

        Assert.True(DiskImage.SameBytes(disk.LocalPath, target.Local));
        Assert.Equal(DiskImage.LocalBlocks(target.Local, disk.Capacity, disk.BlockSize), disk.Blocks);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_api_only_session_refuses_a_block_restore_unless_a_whole_file_upload_is_allowed()
    {
        var disk = DiskImage.Small(bed);
        await using var session = await bed.ConnectAsync(Transport.Soap);
        var target = new DatastorePath("datastore1", _folder + "/w-flat.vmdk");
        var local = System.IO.Path.Combine(LocalDir, "w-flat.vmdk");
        using (var fs = File.Create(local))
        {
            fs.SetLength(disk.Capacity);
        }

        var e = Assert.Throws<CesoException>(() => DiskBlockIo.WriterFor(session.Host));
        Assert.Equal("DiskWriteNeedsSsh", e.ErrorId);
        Assert.Equal(CesoErrorKind.NotSupported, e.Kind);

        var writer = DiskBlockIo.WriterFor(session.Host, allowWholeFileOverHttp: true);
        await writer.WriteAsync(target, disk.Capacity, disk.BlockSize, DiskImage.LocalData(disk.LocalPath, disk.Capacity, disk.BlockSize), null, CancellationToken.None);

        Assert.Equal(DiskBlockIo.WholeFileHttp, writer.PathUsed);
        Assert.True(DiskImage.SameBytes(disk.LocalPath, local));
        output.WriteLine($"whole-file upload: data {disk.DataBytes} bytes, allocated {DiskImage.Allocated(local)} of {disk.Capacity}");
    }

    [Theory(Timeout = 60_000)]
    [InlineData("")]
    [InlineData("off")]
    public async Task Blocks_out_of_order_or_of_the_wrong_length_and_a_missing_or_wrong_sized_flat_are_errors(string pythonFault)
    {
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var target = await CreateThinAsync(session, "bad", 8L << 20);
        if (pythonFault.Length > 0)
        {
            bed.Fault("python=" + pythonFault);
        }

        var block = new byte[1 << 20];
        block[7] = 1;
        async Task<string> ErrorOf(DatastorePath path, long capacity, params (long, ReadOnlyMemory<byte>)[] blocks) =>
            (await Assert.ThrowsAnyAsync<CesoException>(() => DiskBlockIo.WriterFor(session.Host).WriteAsync(path, capacity, 1 << 20, blocks.ToAsyncEnumerable(), null, CancellationToken.None))).ErrorId;

        Assert.Equal("InvalidDiskBlock", await ErrorOf(target.Path, 8L << 20, (3, block), (2, block)));
        Assert.Equal("InvalidDiskBlock", await ErrorOf(target.Path, 8L << 20, (1, block.AsMemory(0, 100))));
        Assert.Equal("InvalidDiskBlock", await ErrorOf(target.Path, 8L << 20, (8, block)));
        Assert.Equal("FileNotFound", await ErrorOf(target.Path with { Path = _folder + "/none-flat.vmdk" }, 8L << 20, (0, block)));
        Assert.Equal("DiskSizeMismatch", await ErrorOf(target.Path, 9L << 20, (0, block)));
        Assert.False(File.Exists(System.IO.Path.Combine(LocalDir, "none-flat.vmdk")));
    }

    [Fact(Timeout = 120_000)]
    public async Task Cancelling_a_write_stops_the_helper_on_the_host()
    {
        var disk = DiskImage.Mixed(bed);
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var target = await CreateThinAsync(session, "c", disk.Capacity);
        using var cts = new CancellationTokenSource();
        var running = 0;

        async IAsyncEnumerable<(long Index, ReadOnlyMemory<byte> Data)> CancelAfterTwo()
        {
            var n = 0;
            await foreach (var b in DiskImage.LocalData(disk.LocalPath, disk.Capacity, disk.BlockSize))
            {
                if (++n == 3)
                {
                    // the first blocks may still sit in ssh's buffers while the helper starts on the host
                    var wait = System.Diagnostics.Stopwatch.StartNew();
                    while ((running = DiskBlockReaderTests.HostHelpers().Count) == 0 && wait.Elapsed < TimeSpan.FromSeconds(5))
                    {
                        await Task.Delay(20);
                    }

                    cts.Cancel();
                }

                yield return b;
            }
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            DiskBlockIo.WriterFor(session.Host).WriteAsync(target.Path, disk.Capacity, disk.BlockSize, CancelAfterTwo(), null, cts.Token));

        Assert.True(running > 0, "no helper process ran on the host during the write");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (DiskBlockReaderTests.HostHelpers().Count > 0 && sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        Assert.Empty(DiskBlockReaderTests.HostHelpers());
    }

    [Theory(Timeout = 120_000)]
    [InlineData("")]
    [InlineData("off")]
    public async Task A_full_datastore_is_reported_as_DatastoreFull_on_both_paths(string pythonFault)
    {
        var disk = DiskImage.Small(bed);
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var target = await CreateThinAsync(session, "full", disk.Capacity);
        bed.Fault(pythonFault.Length > 0 ? ["datastoreFull=datastore1", "python=" + pythonFault] : ["datastoreFull=datastore1"]);

        var e = await Assert.ThrowsAnyAsync<CesoException>(() => DiskBlockIo.WriterFor(session.Host)
            .WriteAsync(target.Path, disk.Capacity, disk.BlockSize, DiskImage.LocalData(disk.LocalPath, disk.Capacity, disk.BlockSize), null, CancellationToken.None));

        Assert.Equal("DatastoreFull", e.ErrorId);
        output.WriteLine(e.Message);
    }

    private async Task<(DatastorePath Path, string Local)> CreateThinAsync(CesoSession session, string name, long capacity)
    {
        var vmdk = new DatastorePath("datastore1", _folder + "/" + name + ".vmdk");
        var r = await session.Ssh!.RunAsync(ShellQuote.Join("vmkfstools", "-c", capacity.ToString(CultureInfo.InvariantCulture), "-d", "thin", vmdk.Vmfs));
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        var flat = new DatastorePath("datastore1", _folder + "/" + name + "-flat.vmdk");
        var local = System.IO.Path.Combine(LocalDir, name + "-flat.vmdk");
        Assert.Equal(capacity, new FileInfo(local).Length);
        Assert.Equal(0, DiskImage.Allocated(local));
        return (flat, local);
    }

    private static async IAsyncEnumerable<(long Index, ReadOnlyMemory<byte> Data)> Data(IAsyncEnumerable<DiskBlock> blocks)
    {
        await foreach (var b in blocks)
        {
            yield return (b.Index, b.Data!.Value);
        }
    }
}
