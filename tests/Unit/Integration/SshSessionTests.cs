using System.Diagnostics;
using Ceso.Engine;
using Ceso.Engine.Shell;
using Ceso.Engine.Ssh;
using Ceso.Tests.Engine;

namespace Ceso.Tests.Integration;

[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SshSessionTests(TestBed bed)
{
    private SshSession NewSession() => new(new SshTarget
    {
        Host = bed.Info.SshHost,
        Port = bed.Info.SshPort,
        User = bed.Info.SshUser,
        IdentityFile = bed.Info.SshKey,
        KnownHostsFile = bed.Info.KnownHosts,
        ConfigFile = "none",
        ConnectTimeout = TimeSpan.FromSeconds(10),
    });

    [Fact]
    public async Task Ten_thousand_hostile_names_round_trip_through_the_host_shell_unchanged_and_run_nothing()
    {
        await using var ssh = NewSession();
        var canary = "/tmp/ceso-canary-" + Guid.NewGuid().ToString("N");
        var names = HostileNames.Generate(10_000, seed: 2026, canary).ToList();
        var checkedCount = 0;
        foreach (var batch in names.Chunk(500))
        {
            // printf is what scripts on ESXi use; each name is one quoted word and must come back byte for byte.
            var r = await ssh.RunAsync("printf '%s\\0' " + string.Join(' ', batch.Select(ShellQuote.Quote)));
            Assert.Equal(0, r.ExitCode);
            var back = r.Stdout.Split('\0')[..^1];
            Assert.Equal(batch.Length, back.Length);
            for (var i = 0; i < batch.Length; i++)
            {
                Assert.Equal(batch[i], back[i]);
                checkedCount++;
            }
        }

        Assert.Equal(10_000, checkedCount);
        var probe = await ssh.RunAsync(ShellQuote.Join("test", "-e", canary));
        Assert.Equal(1, probe.ExitCode); // the canary file was never created
        Assert.Equal(1, ssh.ConnectionsOpened);
    }

    [Fact]
    public async Task One_connection_carries_many_commands_with_their_exit_codes_and_stderr()
    {
        await using var ssh = NewSession();
        for (var i = 0; i < 50; i++)
        {
            var r = await ssh.RunAsync($"echo out{i}; echo err{i} >&2; exit {i % 4}");
            Assert.Equal($"out{i}\n", r.Stdout);
            Assert.Equal($"err{i}\n", r.Stderr);
            Assert.Equal(i % 4, r.ExitCode);
        }

        var noNewline = await ssh.RunAsync("printf abc");
        Assert.Equal("abc", noNewline.Stdout);
        Assert.Equal(1, ssh.ConnectionsOpened);
    }

    [Fact]
    public async Task A_command_that_reads_stdin_cannot_swallow_the_next_command()
    {
        await using var ssh = NewSession();
        var r = await ssh.RunAsync("cat");
        Assert.Equal("", r.Stdout);
        Assert.Equal("still here\n", (await ssh.RunAsync("echo still here")).Stdout);
    }

    [Fact]
    public async Task Cancelling_a_long_command_returns_quickly_and_the_session_works_afterwards()
    {
        await using var ssh = NewSession();
        await ssh.RunAsync(":");
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var sw = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ssh.RunAsync("sleep 30", cts.Token));

        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"cancellation took {sw.Elapsed}");
        var after = await ssh.RunAsync("echo ok");
        Assert.Equal("ok\n", after.Stdout);
        Assert.Equal(2, ssh.ConnectionsOpened);
    }

    [Fact]
    public async Task A_connection_dropped_mid_command_is_reported_and_the_next_command_reconnects()
    {
        await using var ssh = NewSession();
        await ssh.RunAsync(":");
        bed.Fault("dropSsh=power.getstate");
        try
        {
            var vmid = (await ssh.RunAsync("vim-cmd vmsvc/getallvms")).Stdout.Split('\n')[1].Split(' ')[0];
            var e = await Assert.ThrowsAsync<SshConnectionException>(() => ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/power.getstate", vmid)));
            Assert.Equal("SshConnectionLost", e.ErrorId);
            Assert.Contains("may or may not have completed", e.Message);
        }
        finally
        {
            bed.ClearFaults();
        }

        Assert.Equal("back\n", (await ssh.RunAsync("echo back")).Stdout);
    }

    [Fact]
    public async Task Failing_commands_raise_an_error_that_carries_the_command_and_the_exit_code()
    {
        await using var ssh = NewSession();
        var r = await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/get.config", "no-such-vm"));
        Assert.NotEqual(0, r.ExitCode);
        var e = Assert.Throws<RemoteCommandException>(() => r.EnsureSuccess(bed.Info.SshHost));
        Assert.Contains("vim-cmd vmsvc/get.config no-such-vm", e.Message);
        Assert.Equal(r.ExitCode, e.ExitCode);
    }

    [Fact]
    public async Task The_host_sees_vmfs_volumes_paths_and_busybox_basics()
    {
        await using var ssh = NewSession();
        var r = await ssh.RunAsync("ls /vmfs/volumes && df -k /vmfs/volumes/* >/dev/null && echo ok");
        Assert.Equal(0, r.ExitCode);
        Assert.EndsWith("ok\n", r.Stdout);
    }
}

[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SshStreamTests(TestBed bed)
{
    private SshSession NewSession() => new(new SshTarget
    {
        Host = bed.Info.SshHost,
        Port = bed.Info.SshPort,
        User = bed.Info.SshUser,
        IdentityFile = bed.Info.SshKey,
        KnownHostsFile = bed.Info.KnownHosts,
        ConfigFile = "none",
    });

    private async Task<string> FirstFlatDiskAsync(SshSession ssh)
    {
        var r = await ssh.RunAsync("ls /vmfs/volumes/datastore1/*/*-flat.vmdk | head -n 1");
        return r.EnsureSuccess("bed").Stdout.Trim();
    }

    [Fact]
    public async Task A_bulk_stream_runs_on_its_own_connection_and_carries_the_bytes_unchanged()
    {
        await using var ssh = NewSession();
        var flat = await FirstFlatDiskAsync(ssh);
        var local = Path.Combine(bed.Info.Datastores[0].LocalDir, flat["/vmfs/volumes/datastore1/".Length..]);
        using var sink = new MemoryStream();
        var payload = new byte[3 * 1024 * 1024];
        Random.Shared.NextBytes(payload);

        var down = await ssh.StreamAsync("head -c 8388608 " + ShellQuote.Quote(flat), null, sink);
        var up = await ssh.StreamAsync("cat > /tmp/ceso-upload && cksum < /tmp/ceso-upload >&2 && rm /tmp/ceso-upload", new MemoryStream(payload), null);

        Assert.Equal(0, down.ExitCode);
        var expected = new byte[8388608];
        using (var f = File.OpenRead(local))
        {
            f.ReadExactly(expected);
        }

        Assert.Equal(expected, sink.ToArray());
        Assert.Equal(0, up.ExitCode);
        Assert.Contains(payload.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), up.Stderr);
        Assert.Equal(1, ssh.ConnectionsOpened); // the shared shell was opened once, streams did not use it
    }

    [Fact]
    public async Task A_stream_cut_mid_way_raises_connection_lost_instead_of_returning_short_data()
    {
        await using var ssh = NewSession();
        var flat = await FirstFlatDiskAsync(ssh);
        bed.Fault("dropSshAfterBytes=1048576");
        try
        {
            using var sink = new MemoryStream();
            var e = await Assert.ThrowsAsync<SshConnectionException>(() => ssh.StreamAsync("head -c 8388608 " + ShellQuote.Quote(flat), null, sink));
            Assert.Equal("SshConnectionLost", e.ErrorId);
            Assert.True(sink.Length < 8388608);
            Assert.Contains("incomplete", e.Message);
        }
        finally
        {
            bed.ClearFaults();
        }
    }

    [Fact]
    public async Task A_local_read_error_during_an_upload_is_an_error_and_a_size_checked_upload_commits_nothing()
    {
        await using var ssh = NewSession();
        var target = "/tmp/ceso-upload-" + Guid.NewGuid().ToString("N");
        const int size = 4 << 20;
        // The pattern StreamAsync documents: the remote end may see an end of input when ssh goes away, so the file is
        // written under a temporary name and moved into place only when it has the size it must have.
        var part = ShellQuote.Quote(target + ".part");
        var command = $"head -c {size} > {part} && [ \"$(wc -c < {part})\" -eq {size} ] && mv {part} {ShellQuote.Quote(target)}";

        var e = await Assert.ThrowsAsync<IOException>(() => ssh.StreamAsync(command, new FailingStream(1 << 20, false), null));

        Assert.Contains("local disk read error", e.Message);
        await Task.Delay(300);
        Assert.False(File.Exists(target), "a partial upload was committed");
        File.Delete(target + ".part");
    }

    [Fact]
    public async Task A_local_write_error_during_a_download_stops_the_remote_command()
    {
        await using var ssh = NewSession();
        var tag = "ceso-stream-" + Guid.NewGuid().ToString("N");

        await Assert.ThrowsAsync<IOException>(() => ssh.StreamAsync("yes " + tag, null, new FailingStream(4 << 20, true)));

        await Task.Delay(500);
        var left = TestBed.Run("pgrep", ["-f", "yes " + tag]);
        Assert.True(left.Code != 0, "the remote command is still running: " + left.Output);
    }
}
