using System.Diagnostics;
using Ceso.Engine;
using Ceso.Engine.Backup;
using Ceso.Engine.Ssh;
using Ceso.Tests.Backup;
using Xunit.Abstractions;

namespace Ceso.Tests.Integration.Backup;

/// <summary>
/// The SFTP backend against the test bed's real sshd and OpenSSH sftp-server, each test in its own folder on the
/// datastore (<c>/vmfs/volumes/datastore1/ceso-sftp-*</c>, as a repository on an ESXi datastore would be): the
/// conformance suite every backend passes, then what only a remote target does (drops, trust, login, a full disk).
/// </summary>
[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SftpBackendTests(TestBed bed, ITestOutputHelper output) : BackupBackendConformanceTests, IAsyncLifetime
{
    private readonly List<SftpBackend> _backends = [];
    private readonly List<string> _folders = [];

    private TestBedDatastore Datastore => bed.Info.Datastores[0];

    private SshTarget Target => new()
    {
        Host = bed.Info.SshHost,
        Port = bed.Info.SshPort,
        User = bed.Info.SshUser,
        IdentityFile = bed.Info.SshKey,
        KnownHostsFile = bed.Info.KnownHosts,
        ConfigFile = "none",
        UseAgent = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        bed.ClearFaults();
        foreach (var b in _backends)
        {
            await b.DisposeAsync();
        }

        foreach (var f in _folders.Where(Directory.Exists))
        {
            Directory.Delete(f, true);
        }
    }

    protected override IBackupBackend Create() => New(Target).Backend;

    /// <summary>A backend in a new folder of the datastore, and that folder's local path behind the test bed.</summary>
    private (SftpBackend Backend, string Local) New(SshTarget target)
    {
        var name = "ceso-sftp-" + Guid.NewGuid().ToString("N");
        var backend = new SftpBackend(target, $"/vmfs/volumes/{Datastore.Name}/{name}");
        var local = Path.Combine(Datastore.LocalDir, name);
        _backends.Add(backend);
        _folders.Add(local);
        return (backend, local);
    }

    private static byte[] Random(int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static async Task<byte[]> ReadAllAsync(IBackupBackend b, FileKind kind, string name)
    {
        await using var s = await b.OpenAsync(kind, name);
        var m = new MemoryStream();
        await s.CopyToAsync(m);
        return m.ToArray();
    }

    [Fact(Timeout = 30_000)]
    public async Task Packs_go_to_data_xx_on_the_datastore_and_no_temporary_file_stays()
    {
        var (b, local) = New(Target);
        var name = "ab" + new string('0', 62);
        await b.SaveAsync(FileKind.Pack, name, new MemoryStream([7, 8]));

        Assert.Equal([7, 8], File.ReadAllBytes(Path.Combine(local, "data", "ab", name)));
        Assert.Empty(Directory.GetFiles(local, ".tmp-*", SearchOption.AllDirectories));
        Assert.Equal($"sftp://{bed.Info.SshUser}@{bed.Info.SshHost}:{bed.Info.SshPort}/vmfs/volumes/{Datastore.Name}/{Path.GetFileName(local)}", b.Location);
        Assert.Contains(bed.Calls(), c => c is { Channel: "ssh", Kind: "subsystem", Name: "sftp" });
    }

    [Fact(Timeout = 60_000)]
    public async Task A_connection_dropped_mid_upload_is_RepositoryUnavailable_leaves_nothing_listed_and_the_next_call_reconnects()
    {
        var (b, local) = New(Target);
        var data = Random(16 << 20, 1);
        var name = new string('d', 64);
        // The session's replies are counted from its start: VERSION, limits, the folders' mkdirs, then 28 bytes per WRITE.
        bed.Fault("dropSshAfterBytes=1200");

        var source = new MemoryStream(data);

        var e = await Disks.ThrowsCeso("RepositoryUnavailable", () => b.SaveAsync(FileKind.Pack, name, source));

        output.WriteLine($"{e.Message} <- {e.InnerException?.Message} (after {source.Position} bytes of {data.Length} were read)");
        Assert.InRange(source.Position, 1 << 20, data.Length - 1); // cut off mid-upload, not before it or after it
        Assert.Empty(await b.ListAsync(FileKind.Pack).ToListAsync());
        Assert.Null(await b.StatAsync(FileKind.Pack, name));
        Assert.Equal(2, b.Client.ConnectionsOpened); // the temporary file was removed over a new connection
        Assert.Empty(Directory.GetFiles(local, "*", SearchOption.AllDirectories));
    }

    [Fact(Timeout = 60_000)]
    public async Task With_retries_a_save_whose_connection_drops_completes_and_reads_back()
    {
        var (inner, _) = New(Target);
        var b = new RetryingBackend(inner, new RetryPolicy { FirstDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(50) });
        var data = Random(16 << 20, 2);
        var name = new string('e', 64);
        bed.Fault("dropSshAfterBytes=1200");

        await b.SaveAsync(FileKind.Pack, name, new MemoryStream(data));

        Assert.True(b.Retries >= 1);
        var back = await ReadAllAsync(b, FileKind.Pack, name);
        Assert.True(data.AsSpan().SequenceEqual(back));
        Assert.Equal([new BackendFile(name, data.Length)], await b.ListAsync(FileKind.Pack).ToListAsync());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_read_whose_connection_drops_is_RepositoryUnavailable_and_the_next_read_works()
    {
        var (b, _) = New(Target);
        var data = Random(8 << 20, 3);
        var name = new string('f', 64);
        await b.SaveAsync(FileKind.Pack, name, new MemoryStream(data));
        await using var s = await b.OpenAsync(FileKind.Pack, name);
        var head = new byte[1 << 20];
        await s.ReadExactlyAsync(head);

        b.Client.DropConnection("the test cut the link");

        await Disks.ThrowsCeso("RepositoryUnavailable", () => s.CopyToAsync(Stream.Null));
        var back = await ReadAllAsync(b, FileKind.Pack, name);
        Assert.True(data.AsSpan().SequenceEqual(back));
        Assert.Equal(2, b.Client.ConnectionsOpened);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_cancelled_save_kills_the_connection_leaves_nothing_listed_and_the_next_save_works()
    {
        var (b, local) = New(Target);
        await b.SaveAsync(FileKind.Index, "ready", new MemoryStream([1])); // connected, folders made
        using var cts = new CancellationTokenSource();
        var slow = new SlowStream(Random(8 << 20, 4), afterBytes: 1 << 20, cts);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b.SaveAsync(FileKind.Pack, new string('a', 64), slow, cts.Token));

        Assert.Empty(await b.ListAsync(FileKind.Pack).ToListAsync());
        Assert.Empty(Directory.GetFiles(local, ".tmp-*", SearchOption.AllDirectories));
        await b.SaveAsync(FileKind.Index, "after", new MemoryStream([2]));
    }

    [Fact(Timeout = 30_000)]
    public async Task An_unknown_host_key_is_refused_with_the_error_id_of_a_host_connection_and_nothing_is_written()
    {
        var knownHosts = Path.GetTempFileName();
        try
        {
            var target = Target with { KnownHostsFile = knownHosts };
            var (b, local) = New(target);

            var e = await Assert.ThrowsAsync<SshHostKeyException>(() => b.SaveAsync(FileKind.Index, "abcd", new MemoryStream([1])));

            Assert.Equal("SshHostKeyUnknown", e.ErrorId);
            Assert.Equal(e.ErrorId, (await Assert.ThrowsAnyAsync<CesoException>(() => ShellConnectAsync(target))).ErrorId);
            Assert.False(Directory.Exists(local));
            Assert.Equal("", File.ReadAllText(knownHosts)); // never trusted on first use
        }
        finally
        {
            File.Delete(knownHosts);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task A_changed_host_key_is_refused_with_the_error_id_of_a_host_connection()
    {
        var dir = Directory.CreateTempSubdirectory("ceso-sftp-kh-").FullName;
        try
        {
            var other = Path.Combine(dir, "other");
            Assert.Equal(0, TestBed.Run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other]).Code);
            var pub = File.ReadAllText(other + ".pub").Split(' ');
            var knownHosts = Path.Combine(dir, "known_hosts");
            File.WriteAllText(knownHosts, $"[{bed.Info.SshHost}]:{bed.Info.SshPort} {pub[0]} {pub[1]}\n");
            var target = Target with { KnownHostsFile = knownHosts };
            var (b, local) = New(target);

            var e = await Assert.ThrowsAsync<SshHostKeyException>(() => b.ListAsync(FileKind.Snapshot).ToListAsync().AsTask());

            Assert.Equal("SshHostKeyMismatch", e.ErrorId);
            Assert.Equal(e.ErrorId, (await Assert.ThrowsAnyAsync<CesoException>(() => ShellConnectAsync(target))).ErrorId);
            Assert.False(Directory.Exists(local));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task A_key_the_server_does_not_know_is_an_authentication_failure_and_nothing_is_written()
    {
        var dir = Directory.CreateTempSubdirectory("ceso-sftp-key-").FullName;
        try
        {
            var key = Path.Combine(dir, "stranger");
            Assert.Equal(0, TestBed.Run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]).Code);
            var target = Target with { IdentityFile = key };
            var (b, local) = New(target);

            var e = await Disks.ThrowsCeso("SshAuthenticationFailed", () => b.SaveAsync(FileKind.Index, "abcd", new MemoryStream([1])));

            Assert.Equal(e.ErrorId, (await Assert.ThrowsAnyAsync<CesoException>(() => ShellConnectAsync(target))).ErrorId);
            Assert.False(Directory.Exists(local));
            await Disks.ThrowsCeso("SshAuthenticationFailed", () => new RetryingBackend(b).StatAsync(FileKind.Config, "config")); // not retried
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_full_datastore_is_RepositoryFull_and_leaves_no_half_written_file()
    {
        if (Environment.UserName != "root") return; // the datastore is a tmpfs only when the test bed runs as root
        var (b, local) = New(Target);
        await b.SaveAsync(FileKind.Index, "before", new MemoryStream([1, 2, 3]));
        bed.Fault($"datastoreFull={Datastore.Name}");

        var e = await Disks.ThrowsCeso("RepositoryFull", () => b.SaveAsync(FileKind.Pack, new string('b', 64), new MemoryStream(Random(3 << 20, 5))));

        Assert.Equal(CesoErrorKind.InvalidState, e.Kind);
        Assert.Empty(await b.ListAsync(FileKind.Pack).ToListAsync());
        Assert.Empty(Directory.GetFiles(local, ".tmp-*", SearchOption.AllDirectories));
        Assert.Equal([new BackendFile("before", 3)], await b.ListAsync(FileKind.Index).ToListAsync());
        bed.ClearFaults();
        await b.SaveAsync(FileKind.Pack, new string('b', 64), new MemoryStream(Random(3 << 20, 5)));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_folder_the_login_may_not_write_is_RepositoryAccessDenied_and_not_retried()
    {
        // sysfs refuses every new name, even root's (EACCES -> SSH_FX_PERMISSION_DENIED).
        await using var b = new SftpBackend(Target, "/sys/ceso-sftp-" + Guid.NewGuid().ToString("N"));
        var retrying = new RetryingBackend(b, new RetryPolicy { FirstDelay = TimeSpan.FromMilliseconds(10) });

        var e = await Disks.ThrowsCeso("RepositoryAccessDenied", () => retrying.SaveAsync(FileKind.Index, "abcd", new MemoryStream([1])));

        Assert.Equal(CesoErrorKind.Security, e.Kind);
        Assert.Equal(0, retrying.Retries);
    }

    [Fact(Timeout = 120_000)]
    public async Task Many_files_are_listed_with_their_sizes_and_temporary_files_are_not()
    {
        var (b, local) = New(Target);
        var packs = Enumerable.Range(0, 300).Select(i => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))).ToLowerInvariant()).ToList();
        var indexes = Enumerable.Range(0, 1200).Select(i => $"index-{i:D5}").ToList();

        var sw = Stopwatch.StartNew();
        await Parallel.ForEachAsync(packs.Select((n, i) => (FileKind.Pack, n, i)).Concat(indexes.Select((n, i) => (FileKind.Index, n, i))),
            new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (f, ct) => await b.SaveAsync(f.Item1, f.n, new MemoryStream(new byte[f.i % 100]), ct));
        var saved = sw.Elapsed;
        File.WriteAllBytes(Path.Combine(local, "index", ".tmp-0123456789abcdef"), [1]);
        sw.Restart();
        var listedPacks = await b.ListAsync(FileKind.Pack).ToListAsync();
        var listedIndexes = await b.ListAsync(FileKind.Index).ToListAsync();
        output.WriteLine($"saved {packs.Count + indexes.Count} small files in {saved.TotalSeconds:0.00} s (16 at a time over one connection); listed them in {sw.Elapsed.TotalMilliseconds:0} ms");

        Assert.Equal(packs.Select((n, i) => new BackendFile(n, i % 100)).OrderBy(f => f.Name), listedPacks.OrderBy(f => f.Name));
        Assert.Equal(indexes.Select((n, i) => new BackendFile(n, i % 100)).OrderBy(f => f.Name), listedIndexes.OrderBy(f => f.Name));
        Assert.Equal(1, b.Client.ConnectionsOpened);
    }

    [Fact(Timeout = 120_000)]
    public async Task Throughput_of_a_64_MiB_save_and_read_is_printed()
    {
        // Not a timed assertion: the figure goes to the test output (best of three; this machine is shared).
        var (b, _) = New(Target);
        var data = Random(64 << 20, 6);
        var back = new byte[data.Length];
        await b.SaveAsync(FileKind.Index, "warm", new MemoryStream([1])); // the handshake is not part of the figure
        var save = TimeSpan.MaxValue;
        var read = TimeSpan.MaxValue;
        for (var i = 0; i < 3; i++)
        {
            var name = $"{i:x2}" + new string('9', 62);
            var sw = Stopwatch.StartNew();
            await b.SaveAsync(FileKind.Pack, name, new MemoryStream(data));
            save = TimeSpan.FromTicks(Math.Min(save.Ticks, sw.Elapsed.Ticks));
            sw.Restart();
            await using (var s = await b.OpenAsync(FileKind.Pack, name))
            {
                await s.ReadExactlyAsync(back);
            }

            read = TimeSpan.FromTicks(Math.Min(read.Ticks, sw.Elapsed.Ticks));
            Assert.True(data.AsSpan().SequenceEqual(back));
        }

        output.WriteLine($"SFTP 64 MiB, best of 3: save {64 / save.TotalSeconds:0} MiB/s ({save.TotalMilliseconds:0} ms), read {64 / read.TotalSeconds:0} MiB/s ({read.TotalMilliseconds:0} ms)");
        Assert.Equal(1, b.Client.ConnectionsOpened);
    }

    [Fact(Timeout = 30_000)]
    public async Task Disposing_the_backend_ends_its_ssh_process()
    {
        var (b, _) = New(Target);
        await b.SaveAsync(FileKind.Index, "abcd", new MemoryStream([1]));
        Assert.Single(OurSftpProcesses());

        await b.DisposeAsync();

        Assert.Empty(OurSftpProcesses());
    }

    /// <summary>The ssh processes this test process started for the test bed's sftp subsystem.</summary>
    private List<int> OurSftpProcesses()
    {
        var me = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var list = new List<int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            try
            {
                var args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var ppid = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1];
                if (ppid == me && args.Contains("-s") && args.Contains("sftp") && args.Contains(bed.Info.SshPort.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    && stat[(stat.LastIndexOf(')') + 2)] != 'Z')
                {
                    list.Add(int.Parse(Path.GetFileName(dir), System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return list;
    }

    private static async Task ShellConnectAsync(SshTarget target)
    {
        await using var s = new SshSession(target);
        await s.ConnectAsync();
    }

    /// <summary>Gives its bytes slowly after <c>afterBytes</c> and cancels the token there, as Ctrl+C mid-upload would.</summary>
    private sealed class SlowStream(byte[] data, int afterBytes, CancellationTokenSource cancel) : MemoryStream(data, writable: false)
    {
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position >= afterBytes)
            {
                await cancel.CancelAsync();
                await Task.Delay(50, CancellationToken.None);
            }

            return await base.ReadAsync(buffer, cancellationToken);
        }
    }
}
