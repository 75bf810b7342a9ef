using System.Collections.Concurrent;
using Ceso.Engine.Backup;
using Ceso.Engine.Formats;

namespace Ceso.Tests.Integration.DiskIo;

/// <summary>
/// A sparse flat disk written straight into the test bed's datastore directory (a tmpfs there: holes stay holes and
/// SEEK_DATA works), with what a local read of the same file says its non-zero blocks are.
/// </summary>
internal sealed record DiskImage(string LocalPath, DatastorePath Path, long Capacity, int BlockSize, IReadOnlyList<(long Index, BlockHash Hash)> Blocks)
{
    public const int MiB = 1 << 20;

    private static readonly ConcurrentDictionary<string, Lazy<DiskImage>> Shared = new();

    /// <summary>Bytes of the non-zero blocks.</summary>
    public long DataBytes => Blocks.Sum(b => (long)Math.Min(BlockSize, Capacity - b.Index * BlockSize));

    /// <summary>
    /// 2 GiB and a short last block of 4608 bytes, in 1 MiB blocks, with a few MiB at scattered offsets: whole blocks,
    /// partial blocks, a run across three blocks at an unaligned offset, duplicated blocks, an allocated block of
    /// zeros (not a hole, still not yielded) and data in the short last block. Made once per test bed.
    /// </summary>
    public static DiskImage Mixed(TestBed bed) => SharedImage(bed, "mixed", () =>
    {
        const long capacity = (2L << 30) + 4608;
        var rng = new Random(7);
        return Write(bed, "mixed", capacity, MiB, f =>
        {
            var block0 = Bytes(rng, MiB);
            f.At(0, block0);
            f.At(MiB, Bytes(rng, 1000));
            f.At(5L * MiB, Bytes(rng, 3 * MiB));
            f.At(1000L * MiB, block0);
            f.At(1001L * MiB, block0);
            f.At(1500L * MiB, new byte[MiB]); // allocated zeros
            f.At(300L * MiB + 12345, Bytes(rng, 100));
            f.At(700L * MiB + MiB / 2, Bytes(rng, 2 * MiB));
            f.At(2047L * MiB, Bytes(rng, MiB));
            f.At(2048L * MiB, Bytes(rng, 4608));
            for (var i = 0; i < 16; i++)
            {
                f.At(rng.NextInt64(1100, 1400) * MiB + rng.Next(0, MiB - 65536), Bytes(rng, 65536));
            }
        });
    });

    /// <summary>A 96 MiB disk with a few scattered blocks, for the fault tests (where the plain stream reads every byte).</summary>
    public static DiskImage Small(TestBed bed) => SharedImage(bed, "small", () =>
    {
        var rng = new Random(11);
        return Write(bed, "small", 96L * MiB + 512, MiB, f =>
        {
            var dup = Bytes(rng, MiB);
            f.At(0, dup);
            f.At(3L * MiB, Bytes(rng, 2 * MiB + 77));
            f.At(40L * MiB, dup);
            f.At(60L * MiB + 5, Bytes(rng, 300));
            f.At(96L * MiB, Bytes(rng, 512));
        });
    });

    /// <summary>2 GiB with about 300 MiB of data in 75 runs of 4 MiB (a few of them copies), for the throughput figures.</summary>
    public static DiskImage Bench(TestBed bed) => SharedImage(bed, "bench", () =>
    {
        var rng = new Random(13);
        return Write(bed, "bench", 2L << 30, MiB, f =>
        {
            var starts = Enumerable.Range(0, 2048 / 4).OrderBy(_ => rng.Next()).Take(75).Order().ToArray();
            byte[]? first = null;
            for (var i = 0; i < starts.Length; i++)
            {
                var run = i % 10 == 9 && first is not null ? first : Bytes(rng, 4 * MiB);
                first ??= run;
                f.At(starts[i] * 4L * MiB, run);
            }
        });
    });

    /// <summary>The non-zero blocks of a local file, as the readers must see them.</summary>
    public static List<(long Index, BlockHash Hash)> LocalBlocks(string path, long capacity, int blockSize)
    {
        var list = new List<(long, BlockHash)>();
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
        var buffer = new byte[blockSize];
        for (long i = 0; i * blockSize < capacity; i++)
        {
            var n = (int)Math.Min(blockSize, capacity - i * blockSize);
            fs.ReadExactly(buffer, 0, n);
            if (buffer.AsSpan(0, n).ContainsAnyExcept((byte)0))
            {
                list.Add((i, BlockHash.Of(buffer.AsSpan(0, n))));
            }
        }

        return list;
    }

    /// <summary>The non-zero blocks of a local file with their bytes, to feed a writer.</summary>
    public static async IAsyncEnumerable<(long Index, ReadOnlyMemory<byte> Data)> LocalData(string path, long capacity, int blockSize)
    {
        await using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        var buffer = new byte[blockSize];
        for (long i = 0; i * blockSize < capacity; i++)
        {
            var n = (int)Math.Min(blockSize, capacity - i * blockSize);
            await fs.ReadExactlyAsync(buffer.AsMemory(0, n));
            if (buffer.AsSpan(0, n).ContainsAnyExcept((byte)0))
            {
                yield return (i, buffer.AsMemory(0, n));
            }
        }
    }

    /// <summary>The bytes the file system allocated to a local file (stat's st_blocks × 512).</summary>
    public static long Allocated(string path)
    {
        var r = TestBed.Run("stat", ["-c", "%b", path]);
        Assert.Equal(0, r.Code);
        return long.Parse(r.Output.Trim(), System.Globalization.CultureInfo.InvariantCulture) * 512;
    }

    /// <summary>Whether two local files hold the same bytes.</summary>
    public static bool SameBytes(string a, string b)
    {
        using var fa = new FileStream(a, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
        using var fb = new FileStream(b, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
        if (fa.Length != fb.Length)
        {
            return false;
        }

        var ba = new byte[4 * MiB];
        var bb = new byte[4 * MiB];
        int n;
        while ((n = fa.ReadAtLeast(ba, ba.Length, throwOnEndOfStream: false)) > 0)
        {
            fb.ReadExactly(bb, 0, n);
            if (!ba.AsSpan(0, n).SequenceEqual(bb.AsSpan(0, n)))
            {
                return false;
            }
        }

        return true;
    }

    private static DiskImage SharedImage(TestBed bed, string name, Func<DiskImage> make) =>
        Shared.GetOrAdd(bed.Info.StateDir + "/" + name, _ => new Lazy<DiskImage>(make)).Value;

    private static DiskImage Write(TestBed bed, string name, long capacity, int blockSize, Action<Writer> fill)
    {
        var folder = "diskio-src-" + Guid.NewGuid().ToString("N")[..8];
        var local = System.IO.Path.Combine(bed.Info.Datastores[0].LocalDir, folder);
        Directory.CreateDirectory(local);
        var file = System.IO.Path.Combine(local, name + "-flat.vmdk");
        using (var fs = new FileStream(file, FileMode.CreateNew, FileAccess.Write))
        {
            fs.SetLength(capacity);
            fill(new Writer(fs));
        }

        return new DiskImage(file, new DatastorePath("datastore1", folder + "/" + name + "-flat.vmdk"), capacity, blockSize, LocalBlocks(file, capacity, blockSize));
    }

    private static byte[] Bytes(Random rng, int n)
    {
        var b = new byte[n];
        rng.NextBytes(b);
        return b;
    }

    internal sealed class Writer(FileStream fs)
    {
        public void At(long offset, byte[] data)
        {
            fs.Position = offset;
            fs.Write(data);
        }
    }
}
