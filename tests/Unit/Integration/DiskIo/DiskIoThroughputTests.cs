using System.Diagnostics;
using Ceso.Engine.Backup;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Hosts.DiskIo;
using Ceso.Engine.Shell;
using Xunit.Abstractions;

namespace Ceso.Tests.Integration.DiskIo;

/// <summary>
/// Throughput and memory of each path on a 2 GiB disk with about 300 MiB of data (figures in the test output; the
/// asserts are on correctness and on memory staying flat, not on speed, which depends on the machine).
/// </summary>
[Collection(TestBedCollection.Name)]
public sealed class DiskIoThroughputTests(TestBed bed, ITestOutputHelper output) : IAsyncLifetime
{
    private const double MiB = 1 << 20;
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

    [Fact(Timeout = 600_000)]
    public async Task Each_read_path_reads_a_2_GiB_disk_with_300_MiB_of_data_in_flat_memory()
    {
        var disk = DiskImage.Bench(bed);
        output.WriteLine($"disk: {disk.Capacity / MiB:0} MiB, {disk.Blocks.Count} non-zero blocks = {disk.DataBytes / MiB:0} MiB of data, {disk.Blocks.Select(b => b.Hash).Distinct().Count()} distinct");

        await using (var ssh = await bed.ConnectAsync(Transport.Ssh))
        {
            await MeasureAsync("host-helper, nothing known", ssh.Host, disk, None, DiskBlockIo.HostHelper);
            await MeasureAsync("host-helper, all known", ssh.Host, disk, disk.Blocks.Select(b => b.Hash).ToHashSet(), DiskBlockIo.HostHelper);
        }

        await using (var ssh = await bed.ConnectAsync(Transport.Ssh))
        {
            bed.Fault("python=off");
            await MeasureAsync("plain-stream over ssh (cat)", ssh.Host, disk, None, DiskBlockIo.PlainStream);
            bed.ClearFaults();
        }

        await using (var soap = await bed.ConnectAsync(Transport.Soap))
        {
            await MeasureAsync("plain-stream over the API (datastore HTTP GET)", soap.Host, disk, None, DiskBlockIo.PlainStream);
        }
    }

    [Fact(Timeout = 600_000)]
    public async Task Each_write_path_restores_300_MiB_into_a_thin_2_GiB_disk()
    {
        var disk = DiskImage.Bench(bed);
        var folder = "diskio-bench-" + Guid.NewGuid().ToString("N")[..8];
        var localDir = System.IO.Path.Combine(bed.Info.Datastores[0].LocalDir, folder);
        Directory.CreateDirectory(localDir);
        try
        {
            foreach (var python in new[] { "", "off" })
            {
                await using var ssh = await bed.ConnectAsync(Transport.Ssh);
                var name = python.Length == 0 ? "helper" : "dd";
                var vmdk = new DatastorePath("datastore1", folder + "/" + name + ".vmdk");
                Assert.Equal(0, (await ssh.Ssh!.RunAsync(ShellQuote.Join("vmkfstools", "-c", disk.Capacity.ToString(System.Globalization.CultureInfo.InvariantCulture), "-d", "thin", vmdk.Vmfs))).ExitCode);
                var flat = new DatastorePath("datastore1", folder + "/" + name + "-flat.vmdk");
                var local = System.IO.Path.Combine(localDir, name + "-flat.vmdk");
                if (python.Length > 0)
                {
                    bed.Fault("python=" + python);
                }

                var writer = DiskBlockIo.WriterFor(ssh.Host);
                var sw = Stopwatch.StartNew();
                await writer.WriteAsync(flat, disk.Capacity, disk.BlockSize, DataOf(disk), null, CancellationToken.None);
                var s = sw.Elapsed.TotalSeconds;
                bed.ClearFaults();

                Assert.True(DiskImage.SameBytes(disk.LocalPath, local));
                var allocated = DiskImage.Allocated(local);
                Assert.InRange(allocated, disk.DataBytes, disk.DataBytes + (1 << 20));
                output.WriteLine($"write {writer.PathUsed}: {s:0.00} s, {disk.DataBytes / MiB / s:0} MiB/s of data; allocated {allocated / MiB:0.0} MiB of {disk.Capacity / MiB:0} MiB");
                File.Delete(local);
            }
        }
        finally
        {
            Directory.Delete(localDir, recursive: true);
        }
    }

    private async Task MeasureAsync(string what, HostAdapter host, DiskImage disk, IReadOnlySet<BlockHash> known, string expectedPath)
    {
        var reader = DiskBlockIo.ReaderFor(host);
        var progress = new DiskBlockReaderTests.LastProgress();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var ws0 = Environment.WorkingSet;
        var peak0 = Process.GetCurrentProcess().PeakWorkingSet64;
        var alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        var wsMax = ws0;
        var count = 0;
        var sw = Stopwatch.StartNew();
        await foreach (var b in reader.ReadAsync(disk.Path, disk.Capacity, disk.BlockSize, known, progress, CancellationToken.None))
        {
            Assert.Equal(disk.Blocks[count].Index, b.Index);
            Assert.Equal(disk.Blocks[count].Hash, b.Hash);
            Assert.Equal(known.Contains(b.Hash), b.Data is null);
            if (++count % 16 == 0)
            {
                wsMax = Math.Max(wsMax, Environment.WorkingSet);
            }
        }

        var s = sw.Elapsed.TotalSeconds;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - alloc0;
        wsMax = Math.Max(wsMax, Environment.WorkingSet);
        var peak1 = Process.GetCurrentProcess().PeakWorkingSet64;
        Assert.Equal(disk.Blocks.Count, count);
        Assert.Equal(expectedPath, reader.PathUsed);
        var p = progress.Last!.Value;
        output.WriteLine($"read {what}: {s:0.00} s = {disk.Capacity / MiB / s:0} MiB/s of disk, {disk.DataBytes / MiB / s:0} MiB/s of data; " +
            $"wire {p.WireBytes / MiB:0.0} MiB; managed allocations {allocated / MiB:0.0} MiB; working set {ws0 / MiB:0} -> max {wsMax / MiB:0} MiB (+{(wsMax - ws0) / MiB:0}); peak working set {peak0 / MiB:0} -> {peak1 / MiB:0} MiB");
        Assert.True(allocated < 64 * MiB, $"a 2 GiB read allocated {allocated / MiB:0} MiB");
        Assert.True(wsMax - ws0 < 128 * MiB, $"the working set grew by {(wsMax - ws0) / MiB:0} MiB during a 2 GiB read");
    }

    // Only the non-zero blocks, read at their offsets (the writer's speed, not a local scan of 2 GiB, is measured).
    private static async IAsyncEnumerable<(long Index, ReadOnlyMemory<byte> Data)> DataOf(DiskImage disk)
    {
        await using var fs = new FileStream(disk.LocalPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.Asynchronous);
        var buffer = new byte[disk.BlockSize];
        foreach (var (index, _) in disk.Blocks)
        {
            var n = (int)Math.Min(disk.BlockSize, disk.Capacity - index * disk.BlockSize);
            fs.Position = index * disk.BlockSize;
            await fs.ReadExactlyAsync(buffer.AsMemory(0, n));
            yield return (index, buffer.AsMemory(0, n));
        }
    }
}
