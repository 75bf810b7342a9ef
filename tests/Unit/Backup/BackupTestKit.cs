using Ceso.Engine;
using Ceso.Engine.Backup;

namespace Ceso.Tests.Backup;

/// <summary>A repository folder that is deleted after the test, and helpers to back up and restore byte-array disks.</summary>
public sealed class TempRepo : IDisposable
{
    public const string Password = "correct horse battery staple";

    public TempRepo() => Backend = new DirectoryBackend(Path);

    public string Path { get; } = Directory.CreateTempSubdirectory("ceso-repo-").FullName;

    public DirectoryBackend Backend { get; }

    /// <summary>Small packs and a cheap KDF so tests are fast and still produce many packs.</summary>
    public static RepositoryOptions Options => new() { BlockSize = 64 << 10, KdfIterations = 1000, PackSize = 1 << 20 };

    public async Task<BackupRepository> InitAsync(bool encrypted = true, IBackupBackend? backend = null) =>
        await BackupRepository.InitAsync(backend ?? Backend, encrypted ? Password : null, Options);

    public Task<BackupRepository> OpenAsync(string? password = Password, IBackupBackend? backend = null) =>
        BackupRepository.OpenAsync(backend ?? Backend, password);

    /// <summary>Every file below the repository with its bytes' hash, to assert that nothing changed.</summary>
    public Dictionary<string, string> Files() => Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories)
        .ToDictionary(f => f[Path.Length..], f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, true);
        }
        catch (IOException)
        {
        }
    }
}

public static class Disks
{
    public const string Vmx = ".encoding = \"UTF-8\"\ndisplayName = \"vm01\"\n";

    /// <summary>
    /// A 64 MiB + 1000 bytes disk (a short last block) in 64 KiB blocks: zero regions, text-like compressible blocks,
    /// random incompressible blocks, and duplicates of earlier blocks.
    /// </summary>
    public static byte[] Synthetic(int seed, long size = (64 << 20) + 1000)
    {
        var disk = new byte[size];
        var random = new Random(seed);
        const int bs = 64 << 10;
        var blocks = (int)((size + bs - 1) / bs);
        for (var i = 0; i < blocks; i++)
        {
            var span = disk.AsSpan(i * bs, (int)Math.Min(bs, size - (long)i * bs));
            switch (i % 8)
            {
                case 0 or 1: break; // zeros
                case 2 or 3: FillText(span, random); break;
                case 4: random.NextBytes(span); break;
                case 5 when i > 16: disk.AsSpan((i - 8) * bs, span.Length).CopyTo(span); break; // a duplicate
                default: FillText(span, random); span[random.Next(span.Length)] = 1; break;
            }
        }

        random.NextBytes(disk.AsSpan((int)(size - 1000))); // the short last block is data
        return disk;
    }

    private static void FillText(Span<byte> span, Random random)
    {
        for (var at = 0; at < span.Length;)
        {
            var line = System.Text.Encoding.ASCII.GetBytes($"2026-11-22T08:00:{random.Next(60):00}Z app info request id={random.Next(100000)}\n");
            var n = Math.Min(line.Length, span.Length - at);
            line.AsSpan(0, n).CopyTo(span[at..]);
            at += n;
        }
    }

    public static SnapshotHeader Header(string vm = "vm01", string vmId = "4211-aaaa", params string[] tags) =>
        new(vm, vmId, "esx01", BackupMode.Cold, tags, Vmx);

    /// <summary>Backs up one disk the way a host reader delivers it; blocks whose hash is in <paramref name="known"/> are not sent.</summary>
    public static async Task<BackupSnapshot> BackupAsync(BackupRepository repo, byte[] disk, SnapshotHeader? header = null,
        IReadOnlySet<BlockHash>? known = null, string diskName = "[datastore1] vm01/vm01.vmdk", Func<BackupWriter, Task>? beforeCommit = null)
    {
        await using var w = await repo.BeginBackupAsync(header ?? Header());
        await w.AddFileAsync("vm01.vmx", System.Text.Encoding.UTF8.GetBytes(Vmx));
        var d = w.BeginDisk(diskName, disk.LongLength);
        await FeedAsync(d, disk, known);
        await d.CompleteAsync();
        if (beforeCommit is not null) await beforeCommit(w);
        return await w.CommitAsync();
    }

    public static async Task FeedAsync(DiskWriter d, byte[] disk, IReadOnlySet<BlockHash>? known = null)
    {
        for (long i = 0; i < d.BlockCount; i++)
        {
            var block = disk.AsMemory((int)(i * d.BlockSize), (int)Math.Min(d.BlockSize, disk.LongLength - i * d.BlockSize));
            if (!block.Span.ContainsAnyExcept((byte)0)) continue;
            var hash = BlockHash.Of(block.Span);
            await d.AddBlockAsync(new DiskBlock(i, hash, known?.Contains(hash) == true ? (ReadOnlyMemory<byte>?)null : block));
        }
    }

    public static async Task<byte[]> RestoreAsync(BackupRepository repo, SnapshotDisk disk)
    {
        var image = new byte[disk.Capacity];
        await foreach (var block in repo.ReadDiskAsync(disk))
        {
            block.Data!.Value.Span.CopyTo(image.AsSpan((int)(block.Index * disk.BlockSize)));
        }

        return image;
    }

    public static int DistinctNonZeroBlocks(byte[] disk, int bs) => NonZeroBlocks(disk, bs).Select(b => BlockHash.Of(b)).Distinct().Count();

    public static IEnumerable<byte[]> NonZeroBlocks(byte[] disk, int bs) => Enumerable.Range(0, (int)((disk.LongLength + bs - 1) / bs))
        .Select(i => disk.AsSpan(i * bs, (int)Math.Min(bs, disk.LongLength - (long)i * bs)).ToArray())
        .Where(b => b.AsSpan().ContainsAnyExcept((byte)0));

    public static async Task<CesoException> ThrowsCeso(string errorId, Func<Task> act)
    {
        var ex = await Assert.ThrowsAnyAsync<CesoException>(act);
        Assert.Equal(errorId, ex.ErrorId);
        return ex;
    }
}
