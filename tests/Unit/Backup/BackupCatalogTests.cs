using System.Reflection;
using System.Runtime.Loader;
using Ceso.Engine.Backup;
using Ceso.Loader;

namespace Ceso.Tests.Backup;

public sealed class BackupCatalogTests : IDisposable
{
    private readonly TempRepo _repo = new();
    private readonly string _home = Directory.CreateTempSubdirectory("ceso-home-").FullName;

    public void Dispose()
    {
        _repo.Dispose();
        Directory.Delete(_home, true);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_catalog_follows_the_repository_and_is_rebuilt_whole_after_being_deleted()
    {
        var repo = await _repo.InitAsync();
        var catalog = new BackupCatalog(Path.Combine(_home, "catalog"));
        var a = await Disks.BackupAsync(repo, Disks.Synthetic(1, 1 << 20), Disks.Header("web01", "id-web", "daily"));
        var b = await Disks.BackupAsync(repo, Disks.Synthetic(2, 1 << 20), Disks.Header("db01", "id-db"));

        var first = await catalog.RefreshAsync(repo);
        Assert.Equal([a.Id, b.Id], first.Select(s => s.Id));
        Assert.Equal(["daily"], first[0].Tags);
        Assert.Equal(a, first[0] with { Tags = a.Tags });

        await repo.ForgetAsync([a.Id]);
        var c = await Disks.BackupAsync(repo, Disks.Synthetic(3, 1 << 20), Disks.Header("web01", "id-web"));
        Assert.Equal([b.Id, c.Id], (await catalog.RefreshAsync(repo)).Select(s => s.Id));
        Assert.Equal([b.Id, c.Id], (await new BackupCatalog(Path.Combine(_home, "catalog")).ListAsync(repo.Id)).Select(s => s.Id));

        Directory.Delete(Path.Combine(_home, "catalog"), true);
        Assert.Empty(await catalog.ListAsync(repo.Id));
        var rebuilt = await catalog.RefreshAsync(await _repo.OpenAsync());
        Assert.Equal([b.Id, c.Id], rebuilt.Select(s => s.Id));
        Assert.Equal(c.DataAdded, rebuilt[1].DataAdded);
        Assert.Equal(c.Time, rebuilt[1].Time);
    }

    [Fact]
    public void Sqlite_and_zstd_native_libraries_load_from_bin_inside_Cesos_load_context()
    {
        if (!OperatingSystem.IsLinux()) return;
        var bin = Directory.CreateDirectory(Path.Combine(_home, "module", "bin")).FullName;
        var rid = CesoLoadContext.RuntimeIdentifiers().Last();
        var native = Directory.CreateDirectory(Path.Combine(bin, "runtimes", rid, "native")).FullName;
        foreach (var dll in Directory.GetFiles(AppContext.BaseDirectory, "*.dll").Where(f => Path.GetFileName(f) is var n &&
            (n.StartsWith("Ceso.Engine") || n.StartsWith("ZstdNet") || n.StartsWith("Microsoft.Data.Sqlite") || n.StartsWith("SQLitePCLRaw") || n.StartsWith("YamlDotNet") || n == "Ceso.Tests.dll")))
        {
            File.Copy(dll, Path.Combine(bin, Path.GetFileName(dll)));
        }

        foreach (var lib in new[] { "libe_sqlite3.so", "libzstd.so" })
        {
            File.Copy(Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native", lib), Path.Combine(native, lib));
        }

        var context = new CesoLoadContext(bin);
        var probe = context.LoadFromAssemblyName(typeof(BackupLoadProbe).Assembly.GetName()).GetType(typeof(BackupLoadProbe).FullName!, throwOnError: true)!;
        Assert.Same(context, AssemblyLoadContext.GetLoadContext(probe.Assembly));

        var result = (string)probe.GetMethod(nameof(BackupLoadProbe.Run))!.Invoke(null, [Path.Combine(_home, "probe")])!;

        Assert.Equal("1 snapshot(s) cached", result);
        var engine = Assert.Single(context.Assemblies, a => a.GetName().Name == "Ceso.Engine");
        Assert.StartsWith(bin, engine.Location);
        var maps = File.ReadAllText("/proc/self/maps");
        Assert.Contains(Path.Combine(native, "libe_sqlite3.so"), maps);
        Assert.Contains(Path.Combine(native, "libzstd.so"), maps);
    }
}

/// <summary>Runs a backup (zstd) and a catalog refresh (SQLite) with whatever copy of the engine its assembly is bound to.</summary>
public static class BackupLoadProbe
{
    public static string Run(string folder) => Task.Run(async () =>
    {
        var repo = await BackupRepository.InitAsync(new DirectoryBackend(Path.Combine(folder, "repo")), null, new RepositoryOptions { BlockSize = 4096 });
        await using (var w = await repo.BeginBackupAsync(new SnapshotHeader("p", "p", "h", BackupMode.Cold, [], null)))
        {
            var d = w.BeginDisk("[ds] p.vmdk", 4096);
            var block = new byte[4096];
            Array.Fill(block, (byte)'x');
            await d.AddBlockAsync(new DiskBlock(0, BlockHash.Of(block), block));
            await d.CompleteAsync();
            await w.CommitAsync();
        }

        var cached = await new BackupCatalog(Path.Combine(folder, "catalog")).RefreshAsync(repo);
        return $"{cached.Count} snapshot(s) cached";
    }).GetAwaiter().GetResult();
}
