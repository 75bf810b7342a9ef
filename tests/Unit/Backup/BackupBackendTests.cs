using System.Diagnostics;
using Ceso.Engine.Backup;

namespace Ceso.Tests.Backup;

/// <summary>
/// What every <see cref="IBackupBackend"/> must do (restic's backend test suite in spirit): a later SFTP or S3 backend
/// derives from this class with its own <see cref="Create"/> and runs the same tests.
/// </summary>
public abstract class BackupBackendConformanceTests
{
    /// <summary>A new, empty backend.</summary>
    protected abstract IBackupBackend Create();

    [Fact(Timeout = 30_000)]
    public async Task A_saved_file_reads_back_whole_and_in_ranges_and_is_listed_by_kind()
    {
        var b = Create();
        var name = new string('a', 64);
        await b.SaveAsync(FileKind.Pack, name, new MemoryStream([1, 2, 3, 4, 5]));

        await using (var s = await b.OpenAsync(FileKind.Pack, name, 1, 3))
        {
            var got = new byte[3];
            await s.ReadExactlyAsync(got);
            Assert.Equal([2, 3, 4], got);
        }

        Assert.Equal(5, await b.StatAsync(FileKind.Pack, name));
        Assert.Equal([new BackendFile(name, 5)], await b.ListAsync(FileKind.Pack).ToListAsync());
        Assert.Empty(await b.ListAsync(FileKind.Index).ToListAsync());
        await Disks.ThrowsCeso("RepositoryFileMissing", () => b.OpenAsync(FileKind.Index, name));
        await Disks.ThrowsCeso("RepositoryDataCorrupt", () => b.OpenAsync(FileKind.Pack, name, 4, 3));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_file_is_written_once_same_content_is_accepted_and_a_different_size_refused()
    {
        var b = Create();
        await b.SaveAsync(FileKind.Index, "abcd", new MemoryStream([1, 2]));
        await b.SaveAsync(FileKind.Index, "abcd", new MemoryStream([1, 2]));

        await Disks.ThrowsCeso("RepositoryFileExists", () => b.SaveAsync(FileKind.Index, "abcd", new MemoryStream([1, 2, 3])));
        Assert.Equal([new BackendFile("abcd", 2)], await b.ListAsync(FileKind.Index).ToListAsync());
        await Disks.ThrowsCeso("BackupInvalidArgument", () => b.SaveAsync(FileKind.Index, "../x", new MemoryStream([1])));
        await b.RemoveAsync(FileKind.Index, "abcd");
        await b.RemoveAsync(FileKind.Index, "abcd"); // removing what is not there is not an error
        await b.RemoveAsync(FileKind.Pack, new string('c', 64)); // nor is removing from a folder that does not exist
        Assert.Null(await b.StatAsync(FileKind.Index, "abcd"));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_whole_repository_round_trips_through_the_backend()
    {
        var b = Create();
        var repo = await BackupRepository.InitAsync(b, TempRepo.Password, TempRepo.Options);
        var disk = Disks.Synthetic(3, 2 << 20);
        var snap = await Disks.BackupAsync(repo, disk);

        var reopened = await BackupRepository.OpenAsync(b, TempRepo.Password);

        Assert.True((await Disks.RestoreAsync(reopened, (await reopened.LoadSnapshotAsync(snap.Id)).Disks[0])).AsSpan().SequenceEqual(disk));
        Assert.Empty((await reopened.CheckAsync(new CheckOptions { ReadData = true })).Problems);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_file_of_several_upload_parts_reads_back_whole_and_across_a_part_boundary()
    {
        var b = Create();
        var name = "5e" + new string('0', 62);
        var data = new byte[(12 << 20) + 123]; // more than two parts of 5 MiB (the S3 minimum), a short last part
        new Random(5).NextBytes(data);
        await b.SaveAsync(FileKind.Pack, name, new MemoryStream(data));
        await b.SaveAsync(FileKind.Pack, name, new MemoryStream(data)); // the same again is accepted

        Assert.Equal(data.Length, await b.StatAsync(FileKind.Pack, name));
        var whole = new MemoryStream();
        await using (var s = await b.OpenAsync(FileKind.Pack, name))
        {
            await s.CopyToAsync(whole);
        }

        Assert.True(whole.ToArray().AsSpan().SequenceEqual(data));
        await using (var s = await b.OpenAsync(FileKind.Pack, name, (5 << 20) - 10, 20))
        {
            var got = new byte[20];
            await s.ReadExactlyAsync(got);
            Assert.Equal(data.AsSpan((5 << 20) - 10, 20).ToArray(), got);
        }

        Assert.Equal([new BackendFile(name, data.Length)], await b.ListAsync(FileKind.Pack).ToListAsync());
    }

    [Fact(Timeout = 60_000)]
    public async Task Listing_many_files_gives_each_once_with_its_size_and_only_of_its_kind()
    {
        var b = Create();
        var packs = Enumerable.Range(0, 9).Select(i => $"{i % 4:x2}{i:x62}").ToList(); // several share a data/xx folder
        var indexes = Enumerable.Range(0, 11).Select(i => $"{i:x64}").ToList();
        foreach (var (name, i) in packs.Select((n, i) => (n, i)))
        {
            await b.SaveAsync(FileKind.Pack, name, new MemoryStream(new byte[i + 1]));
        }

        foreach (var (name, i) in indexes.Select((n, i) => (n, i)))
        {
            await b.SaveAsync(FileKind.Index, name, new MemoryStream(new byte[100 + i]));
        }

        await b.SaveAsync(FileKind.Snapshot, indexes[0], new MemoryStream([9]));

        Assert.Equal(packs.Select((n, i) => new BackendFile(n, i + 1)).OrderBy(f => f.Name), (await b.ListAsync(FileKind.Pack).ToListAsync()).OrderBy(f => f.Name));
        Assert.Equal(indexes.Select((n, i) => new BackendFile(n, 100 + i)).OrderBy(f => f.Name), (await b.ListAsync(FileKind.Index).ToListAsync()).OrderBy(f => f.Name));
        Assert.Equal([new BackendFile(indexes[0], 1)], await b.ListAsync(FileKind.Snapshot).ToListAsync());
        Assert.Empty(await b.ListAsync(FileKind.Lock).ToListAsync());
    }
}

public sealed class DirectoryBackendTests : BackupBackendConformanceTests, IDisposable
{
    private readonly List<TempRepo> _repos = [];

    public void Dispose() => _repos.ForEach(r => r.Dispose());

    protected override IBackupBackend Create()
    {
        var repo = new TempRepo();
        _repos.Add(repo);
        return repo.Backend;
    }

    [Fact(Timeout = 30_000)]
    public async Task Packs_go_to_a_folder_named_by_their_first_two_hex_digits_and_no_temporary_file_stays()
    {
        var b = (DirectoryBackend)Create();
        var name = "ab" + new string('0', 62);
        await b.SaveAsync(FileKind.Pack, name, new MemoryStream([7]));

        Assert.True(File.Exists(Path.Combine(b.Root, "data", "ab", name)));
        Assert.Empty(Directory.GetFiles(b.Root, ".tmp-*", SearchOption.AllDirectories));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_full_disk_is_RepositoryFull_and_leaves_no_half_written_file()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root") return; // needs a small tmpfs
        var mount = Directory.CreateTempSubdirectory("ceso-full-").FullName;
        if (!Run("mount", $"-t tmpfs -o size=2m tmpfs {mount}")) return;
        try
        {
            var backend = new DirectoryBackend(Path.Combine(mount, "repo"));
            var big = new byte[3 << 20];
            new Random(1).NextBytes(big);

            var ex = await Disks.ThrowsCeso("RepositoryFull", () => backend.SaveAsync(FileKind.Pack, new string('b', 64), new MemoryStream(big)));

            Assert.Equal(Ceso.Engine.CesoErrorKind.InvalidState, ex.Kind);
            Assert.Empty(Directory.GetFiles(mount, "*", SearchOption.AllDirectories));
            var repo = await BackupRepository.InitAsync(backend, TempRepo.Password, TempRepo.Options);
            await Disks.ThrowsCeso("RepositoryFull", () => Disks.BackupAsync(repo, big)); // incompressible, bigger than the disk
            Assert.Empty(Directory.GetFiles(mount, ".tmp-*", SearchOption.AllDirectories));
            Assert.Empty(await backend.ListAsync(FileKind.Snapshot).ToListAsync());
        }
        finally
        {
            Run("umount", mount);
            Directory.Delete(mount, true);
        }
    }

    private static bool Run(string file, string args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, UseShellExecute = false })!;
        p.WaitForExit();
        return p.ExitCode == 0;
    }
}

/// <summary>The fault-injecting decorator, with no fault armed, is a faithful backend.</summary>
public sealed class FaultyBackendConformanceTests : BackupBackendConformanceTests, IDisposable
{
    private readonly List<TempRepo> _repos = [];

    public void Dispose() => _repos.ForEach(r => r.Dispose());

    protected override IBackupBackend Create()
    {
        var repo = new TempRepo();
        _repos.Add(repo);
        return new FaultyBackend(repo.Backend);
    }
}
