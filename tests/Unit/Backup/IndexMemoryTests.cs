using Ceso.Engine.Backup;
using Xunit.Abstractions;

namespace Ceso.Tests.Backup;

/// <summary>Measured alone: GC.GetTotalMemory is process-wide, and tests running beside it would be counted.</summary>
[CollectionDefinition(nameof(IndexMemoryTests), DisableParallelization = true)]
public sealed class IndexMemoryCollection;

[Collection(nameof(IndexMemoryTests))]
public sealed class IndexMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public void The_in_memory_index_costs_at_most_64_bytes_per_blob_at_a_million_blobs()
    {
        const int n = 1_000_000;
        var entries = new PackEntry[n];
        var random = new Random(7);
        Span<byte> id = stackalloc byte[32];
        for (var i = 0; i < n; i++)
        {
            random.NextBytes(id);
            entries[i] = new PackEntry(BlobId.FromBytes(id), true, (uint)i, 1000, 1 << 20);
        }

        var packs = Enumerable.Range(0, 1000).Select(p => new IndexedPack($"{p:x4}".PadLeft(64, '0'), 1 << 24, new ArraySegment<PackEntry>(entries, p * 1000, 1000))).ToList();
        var probe = entries[123_456].Id;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = GC.GetTotalMemory(forceFullCollection: true);

        var index = MemoryIndex.Empty.Merge(packs, ["index-file"]);
        GC.Collect();
        var after = GC.GetTotalMemory(forceFullCollection: true);

        var perEntry = (after - before) / (double)n; // the index alone: the packs it was built from are alive in both figures
        output.WriteLine($"in-memory index: {perEntry:F1} bytes per blob for {index.Count} blobs ({System.Runtime.CompilerServices.Unsafe.SizeOf<IndexEntry>()} bytes per entry struct)");
        Assert.Equal(n, index.Count);
        Assert.True(index.TryGet(probe, out var found) && found.Offset == 123_456);
        Assert.Equal(48, System.Runtime.CompilerServices.Unsafe.SizeOf<IndexEntry>());
        Assert.InRange(perEntry, 40, 64);
        Assert.Equal(n, index.Entries.Length);
        GC.KeepAlive(index);
        GC.KeepAlive(packs);
        GC.KeepAlive(entries);
    }
}
