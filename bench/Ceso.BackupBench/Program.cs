// Usage: dotnet run -c Release --project bench/Ceso.BackupBench -- zstd|blocksize|engine [DIR]
// DIR holds disk-v1.img and disk-v2.img from /work/shared/bench/make-disk-image.sh (default /var/tmp/ceso-bench).
using System.Diagnostics;
using System.Security.Cryptography;
using Ceso.Engine.Backup;

var mode = args.Length > 0 ? args[0] : "engine";
var dir = args.Length > 1 ? args[1] : "/var/tmp/ceso-bench";
var v1 = Path.Combine(dir, "disk-v1.img");
var v2 = Path.Combine(dir, "disk-v2.img");

switch (mode)
{
    case "zstd": Zstd(); break;
    case "blocksize": BlockSizes(); break;
    case "engine": await Engine(); break;
    default: Console.Error.WriteLine("use zstd, blocksize or engine"); return 2;
}

return 0;

void Zstd()
{
    var blocks = Blocks(v1, 1 << 20).Select(b => b.Data).ToList();
    var total = blocks.Sum(b => (long)b.Length) / 1048576.0;
    Console.WriteLine($"| level | library | output MiB | compress MiB/s | decompress MiB/s |  ({blocks.Count} non-zero 1 MiB blocks, {total:F1} MiB)");
    foreach (var level in new[] { 1, 3 })
    {
        var dst = new byte[(1 << 20) + 65536];
        var frames = new List<byte[]>();
        var sw = Stopwatch.StartNew();
        long managed = 0;
        using (var c = new ZstdSharp.Compressor(level)) foreach (var b in blocks) managed += c.Wrap(b, dst);
        var tManaged = sw.Elapsed.TotalSeconds;
        sw.Restart();
        long native = 0;
        using (var c = new ZstdNet.Compressor(new ZstdNet.CompressionOptions(level))) foreach (var b in blocks) native += c.Wrap(b, dst);
        var tNative = sw.Elapsed.TotalSeconds;
        using (var c = new ZstdNet.Compressor(new ZstdNet.CompressionOptions(level))) foreach (var b in blocks) frames.Add(c.Wrap(b));
        var output = new byte[1 << 20];
        sw.Restart();
        using (var d = new ZstdSharp.Decompressor()) foreach (var f in frames) d.Unwrap(f, output);
        var dManaged = sw.Elapsed.TotalSeconds;
        sw.Restart();
        using (var d = new ZstdNet.Decompressor()) foreach (var f in frames) d.Unwrap(f, output, 0);
        var dNative = sw.Elapsed.TotalSeconds;
        Console.WriteLine($"| {level} | ZstdSharp.Port | {managed / 1048576.0:F1} | {total / tManaged:F0} | {total / dManaged:F0} |");
        Console.WriteLine($"| {level} | ZstdNet | {native / 1048576.0:F1} | {total / tNative:F0} | {total / dNative:F0} |");
    }
}

void BlockSizes()
{
    Console.WriteLine("| block | v1 non-zero | v1 distinct | v1 raw MiB | v1 stored MiB | v2 new blocks | v2 new raw MiB | v2 new stored MiB | blobs | index (48 B/blob) | v1 MiB/s |");
    foreach (var bs in new[] { 64 << 10, 256 << 10, 1 << 20, 4 << 20 })
    {
        var sw = Stopwatch.StartNew();
        var seen = new HashSet<string>();
        long stored = 0, raw = 0, n1 = 0, read = 0, newBlocks = 0, newRaw = 0, newStored = 0;
        var dst = new byte[bs + 65536];
        using var c = new ZstdNet.Compressor(new ZstdNet.CompressionOptions(3));
        foreach (var (_, data) in Blocks(v1, bs))
        {
            n1++;
            read += data.Length;
            if (seen.Add(Convert.ToHexString(SHA256.HashData(data)))) { stored += Math.Min(c.Wrap(data, dst), data.Length); raw += data.Length; }
        }

        var t = sw.Elapsed.TotalSeconds;
        var distinct = seen.Count;
        foreach (var (_, data) in Blocks(v2, bs))
        {
            if (seen.Add(Convert.ToHexString(SHA256.HashData(data)))) { newBlocks++; newStored += Math.Min(c.Wrap(data, dst), data.Length); newRaw += data.Length; }
        }

        Console.WriteLine($"| {bs / 1024} KiB | {n1} | {distinct} | {raw / 1048576.0:F1} | {stored / 1048576.0:F1} | {newBlocks} | {newRaw / 1048576.0:F1} | {newStored / 1048576.0:F1} | {seen.Count} | {seen.Count * 48 / 1024.0:F0} KiB | {read / 1048576.0 / t:F0} |");
    }
}

async Task Engine()
{
    var root = Directory.CreateTempSubdirectory("ceso-backup-bench-").FullName;
    try
    {
        var repo = await BackupRepository.InitAsync(new DirectoryBackend(root), "bench", new RepositoryOptions { KdfIterations = 1000 });
        foreach (var image in new[] { v1, v2 })
        {
            var known = await repo.KnownHashesAsync("bench");
            var sw = Stopwatch.StartNew();
            double feeding = 0;
            long nonZero = 0;
            await using var w = await repo.BeginBackupAsync(new SnapshotHeader("bench", "bench", "host", BackupMode.Cold, [], null));
            using var file = new FileStream(image, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            var disk = w.BeginDisk("[ds] bench.vmdk", file.Length);
            foreach (var (index, data) in Blocks(image, repo.BlockSize))
            {
                var hash = BlockHash.Of(data);
                nonZero += data.Length;
                var t0 = Stopwatch.GetTimestamp();
                await disk.AddBlockAsync(new DiskBlock(index, hash, known.Contains(hash) ? (ReadOnlyMemory<byte>?)null : data));
                feeding += Stopwatch.GetElapsedTime(t0).TotalSeconds;
            }

            await disk.CompleteAsync();
            var t1 = Stopwatch.GetTimestamp();
            var snap = await w.CommitAsync();
            feeding += Stopwatch.GetElapsedTime(t1).TotalSeconds;
            var s = (await repo.LoadSnapshotAsync(snap.Id)).Statistics;
            Console.WriteLine($"{Path.GetFileName(image)}: {nonZero / 1048576.0:F0} MiB non-zero, {s.BytesReceived / 1048576.0:F0} MiB received, {s.NewBlobs} new blobs, " +
                $"{s.NewBytesStored / 1048576.0:F1} MiB stored; AddBlockAsync + commit {s.BytesReceived / 1048576.0 / feeding:F0} MiB/s of received data; whole pass {sw.Elapsed.TotalSeconds:F1} s");
        }

        var packs = Directory.GetFiles(Path.Combine(root, "data"), "*", SearchOption.AllDirectories);
        Console.WriteLine($"{packs.Length} packs, {packs.Sum(p => new FileInfo(p).Length) / 1048576.0:F1} MiB; index files {Directory.GetFiles(Path.Combine(root, "index")).Sum(p => new FileInfo(p).Length)} bytes");
        var check = Stopwatch.StartNew();
        var report = await repo.CheckAsync(new CheckOptions { ReadData = true });
        Console.WriteLine($"check with ReadData: {check.Elapsed.TotalSeconds:F1} s, {report.BlobsRead} blobs, ok={report.Ok}");
        var last = await repo.LoadSnapshotAsync((await repo.ListSnapshotsAsync())[^1].Id);
        var restore = Stopwatch.StartNew();
        long bytes = 0;
        await foreach (var b in repo.ReadDiskAsync(last.Disks[0])) bytes += b.Data!.Value.Length;
        Console.WriteLine($"restore read: {bytes / 1048576.0 / restore.Elapsed.TotalSeconds:F0} MiB/s");
    }
    finally
    {
        Directory.Delete(root, true);
    }
}

static IEnumerable<(long Index, byte[] Data)> Blocks(string path, int size)
{
    using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
    for (long i = 0; ; i++)
    {
        var buffer = new byte[size];
        int n = 0, r;
        while (n < size && (r = file.Read(buffer, n, size - n)) > 0) n += r;
        if (n == 0) yield break;
        if (buffer.AsSpan(0, n).ContainsAnyExcept((byte)0)) yield return (i, n == size ? buffer : buffer[..n]);
        if (n < size) yield break;
    }
}
