using System.Net;
using System.Text.Json;
using Ceso.Engine.Hosts;
using Ceso.Engine.Shell;
using Ceso.Engine.Ssh;

namespace Ceso.Tests.Integration;

/// <summary>
/// The test bed's disks behave as a real host's for hot and cold backups (testbed/SPEC.md "Disks of running VMs"): a
/// running VM locks its current disk (reads over SSH and datastore HTTP refused), a snapshot gives it a delta that
/// takes the guest's writes while the base stays as of the snapshot and becomes readable, and removing the snapshot
/// consolidates the writes into the base and deletes the delta. Each test registers its own VM and removes it.
/// </summary>
[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TestBedDiskLockTests(TestBed bed)
{
    [Fact]
    public async Task A_running_vms_disk_is_locked_until_a_snapshot_and_consolidation_brings_the_guests_writes_into_the_base()
    {
        await using var session = await bed.ConnectAsync(Transport.Auto);
        var ssh = session.Ssh!;
        await using var vm = await LabVm.CreateAsync(bed, ssh, "ceso lock");
        var flat = vm.Dir + "/lock-flat.vmdk";
        (await ssh.RunAsync("printf BASE-AT-SNAPSHOT | dd of=" + ShellQuote.Quote(flat) + " conv=notrunc 2>/dev/null")).EnsureSuccess("bed");
        (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/power.on", vm.Id))).EnsureSuccess("bed");

        // Running, no snapshot: every reader is refused, writes too, the descriptor stays readable.
        foreach (var read in new[]
                 {
                     ShellQuote.Join("cat", flat), ShellQuote.Join("head", "-c", "16", flat), ShellQuote.Join("tail", "-c", "16", flat),
                     "dd if=" + ShellQuote.Quote(flat) + " bs=4096 count=1", ShellQuote.Join("python", "-c", "import sys; open(sys.argv[1], 'rb').read(16)", flat),
                     "printf x >> " + ShellQuote.Quote(flat),
                 })
        {
            var r = await ssh.RunAsync(read + " >/dev/null");
            Assert.True(r.ExitCode != 0, read + " read a locked disk");
            Assert.Contains("Device or resource busy", r.Stderr);
        }

        Assert.Equal(0, (await ssh.RunAsync(ShellQuote.Join("cat", vm.Dir + "/lock.vmdk"))).ExitCode);
        var clone = await ssh.RunAsync(ShellQuote.Join("vmkfstools", "-i", vm.Dir + "/lock.vmdk", "-d", "thin", vm.Dir + "/copy.vmdk"));
        Assert.NotEqual(0, clone.ExitCode);
        Assert.Contains("Failed to lock the file", clone.Stderr);
        Assert.Equal(HttpStatusCode.InternalServerError, (await HttpGet(session, "ceso-lock/lock-flat.vmdk")).StatusCode);

        // A snapshot: the VM writes into the delta, the base is readable (read-only) and stays as of the snapshot.
        (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.create", vm.Id, "ceso-backup", "hot backup", "0", "0"))).EnsureSuccess("bed");
        var ls = (await ssh.RunAsync(ShellQuote.Join("ls", vm.Dir))).EnsureSuccess("bed").Stdout;
        Assert.Contains("lock-000001.vmdk", ls);
        Assert.Contains("lock-000001-sesparse.vmdk", ls);
        Assert.Contains("scsi0:0.fileName = \"lock-000001.vmdk\"", (await ssh.RunAsync(ShellQuote.Join("cat", vm.Dir + "/lock.vmx"))).Stdout);
        var write = JsonDocument.Parse(bed.GuestWrite("ceso lock", 0, "GUEST-AFTER-SNAP")).RootElement;
        Assert.Equal("delta", write.GetProperty("target").GetString());
        Assert.EndsWith("lock-000001-sesparse.vmdk", write.GetProperty("file").GetString());

        Assert.Equal("BASE-AT-SNAPSHOT", (await ssh.RunAsync(ShellQuote.Join("head", "-c", "16", flat))).EnsureSuccess("bed").Stdout);
        var py = await ssh.RunAsync(ShellQuote.Join("python", "-c", "import sys; sys.stdout.write(open(sys.argv[1], 'rb').read(16).decode())", flat));
        Assert.Equal("BASE-AT-SNAPSHOT", py.EnsureSuccess("bed").Stdout);
        Assert.Equal("BASE-AT-SNAPSHOT", (await ssh.RunAsync("dd if=" + ShellQuote.Quote(flat) + " bs=16 count=1 2>/dev/null")).EnsureSuccess("bed").Stdout);
        using (var ranged = await HttpGet(session, "ceso-lock/lock-flat.vmdk", (0, 15)))
        {
            Assert.Equal(HttpStatusCode.PartialContent, ranged.StatusCode);
            Assert.Equal("BASE-AT-SNAPSHOT", await ranged.Content.ReadAsStringAsync());
        }

        var baseWrite = await ssh.RunAsync("printf x >> " + ShellQuote.Quote(flat));
        Assert.Contains("Device or resource busy", baseWrite.Stderr); // read-only while the snapshot's delta is on top
        Assert.NotEqual(0, (await ssh.RunAsync(ShellQuote.Join("cat", vm.Dir + "/lock-000001-sesparse.vmdk") + " >/dev/null")).ExitCode);

        // Removal consolidates: the delta's files go, the base holds the guest's write and is locked again.
        var tree = (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.get", vm.Id))).EnsureSuccess("bed").Stdout;
        (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.remove", vm.Id, SshHostCommands.SnapshotIdOf(tree, "ceso-backup")!))).EnsureSuccess("bed");
        ls = (await ssh.RunAsync(ShellQuote.Join("ls", vm.Dir))).EnsureSuccess("bed").Stdout;
        Assert.DoesNotContain("lock-000001", ls);
        Assert.Contains("scsi0:0.fileName = \"lock.vmdk\"", (await ssh.RunAsync(ShellQuote.Join("cat", vm.Dir + "/lock.vmx"))).Stdout);
        Assert.Contains("Device or resource busy", (await ssh.RunAsync(ShellQuote.Join("head", "-c", "16", flat))).Stderr);
        Assert.Equal("base", JsonDocument.Parse(bed.GuestWrite("ceso lock", 4096, "AFTER-REMOVAL")).RootElement.GetProperty("target").GetString());

        // Powered off: no locks.
        (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/power.off", vm.Id))).EnsureSuccess("bed");
        Assert.Equal("GUEST-AFTER-SNAP", (await ssh.RunAsync(ShellQuote.Join("head", "-c", "16", flat))).EnsureSuccess("bed").Stdout);
        Assert.Equal("AFTER-REMOVAL", (await ssh.RunAsync("dd if=" + ShellQuote.Quote(flat) + " bs=1 skip=4096 count=13 2>/dev/null")).EnsureSuccess("bed").Stdout);
        Assert.Equal(HttpStatusCode.OK, (await HttpGet(session, "ceso-lock/lock.vmdk")).StatusCode);
        using (var ranged = await HttpGet(session, "ceso-lock/lock-flat.vmdk", (0, 15)))
        {
            Assert.Equal("GUEST-AFTER-SNAP", await ranged.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task A_guest_that_keeps_writing_changes_only_the_delta_and_remove_all_consolidates_every_write()
    {
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var ssh = session.Ssh!;
        await using var vm = await LabVm.CreateAsync(bed, ssh, "ceso writer");
        var flat = vm.Dir + "/lock-flat.vmdk";
        const long at = 1 << 20;
        (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/power.on", vm.Id))).EnsureSuccess("bed");
        bed.Fault("guestWrites=vm=ceso writer,offset=" + at + ",bytes=4096,everyMs=20");
        try
        {
            await Task.Delay(200);
            (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.create", vm.Id, "one", "", "0", "0"))).EnsureSuccess("bed");
            await Task.Delay(200);
            (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.create", vm.Id, "two", "", "0", "0"))).EnsureSuccess("bed");

            // What a hot backup reads: the base as of the first snapshot, the same however long the guest writes.
            var read = "dd if=" + ShellQuote.Quote(flat) + " bs=4096 skip=256 count=1 2>/dev/null | md5sum";
            var first = (await ssh.RunAsync(read)).EnsureSuccess("bed").Stdout;
            await Task.Delay(300);
            Assert.Equal(first, (await ssh.RunAsync(read)).EnsureSuccess("bed").Stdout);
            var ls = (await ssh.RunAsync(ShellQuote.Join("ls", vm.Dir))).EnsureSuccess("bed").Stdout;
            Assert.Contains("lock-000002-sesparse.vmdk", ls);
        }
        finally
        {
            bed.Fault("guestWrites=off");
        }

        await Task.Delay(100);
        var last = File.ReadLines(Path.Combine(bed.Info.StateDir, "guestwrites.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement).Last(e => e.GetProperty("vm").GetString() == "ceso writer");
        Assert.Equal("delta", last.GetProperty("target").GetString());
        Assert.EndsWith("lock-000002-sesparse.vmdk", last.GetProperty("file").GetString());

        (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.removeall", vm.Id))).EnsureSuccess("bed");
        (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/power.off", vm.Id))).EnsureSuccess("bed");
        var ls2 = (await ssh.RunAsync(ShellQuote.Join("ls", vm.Dir))).EnsureSuccess("bed").Stdout;
        Assert.DoesNotContain("-00000", ls2);
        var head = (await ssh.RunAsync("dd if=" + ShellQuote.Quote(flat) + " bs=4096 skip=256 count=1 2>/dev/null | head -c 40")).EnsureSuccess("bed").Stdout;
        Assert.StartsWith($"GUEST ceso writer seq={last.GetProperty("seq").GetInt64()} off={at}\n", head);
    }

    private async Task<HttpResponseMessage> HttpGet(Ceso.Engine.Connection.CesoSession session, string path, (long From, long To)? range = null)
    {
        var soap = session.Soap ?? throw new InvalidOperationException("needs SOAP");
        var http = new HttpClient(new HttpClientHandler { CookieContainer = soap.Cookies, ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
        var req = new HttpRequestMessage(HttpMethod.Get, $"https://{bed.Info.SoapHost}:{bed.Info.SoapPort}/folder/{path}?dcPath=ha-datacenter&dsName=datastore1");
        if (range is { } r)
        {
            req.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(r.From, r.To);
        }

        return await http.SendAsync(req);
    }

    /// <summary>A VM of its own (a 64 MiB thin disk), registered from a .vmx; unregistered and deleted at the end.</summary>
    private sealed class LabVm(SshSession ssh, string id, string dir) : IAsyncDisposable
    {
        public string Id { get; } = id;

        public string Dir { get; } = dir;

        public static async Task<LabVm> CreateAsync(TestBed bed, SshSession ssh, string name)
        {
            var dir = "/vmfs/volumes/datastore1/" + name.Replace(' ', '-');
            var vmx = $"""
                .encoding = "UTF-8"
                config.version = "8"
                virtualHW.version = "19"
                displayName = "{name}"
                guestOS = "ubuntu-64"
                numvcpus = "1"
                memSize = "512"
                scsi0.present = "TRUE"
                scsi0.virtualDev = "pvscsi"
                scsi0:0.present = "TRUE"
                scsi0:0.fileName = "lock.vmdk"
                """;
            await ssh.RunAsync(ShellQuote.Join("rm", "-rf", dir));
            (await ssh.RunAsync(ShellQuote.Join("mkdir", "-p", dir))).EnsureSuccess("bed");
            (await ssh.RunAsync(ShellQuote.Join("vmkfstools", "-c", "64M", "-d", "thin", dir + "/lock.vmdk"))).EnsureSuccess("bed");
            (await ssh.RunAsync("printf '%s\\n' " + ShellQuote.Quote(vmx) + " > " + ShellQuote.Quote(dir + "/lock.vmx"))).EnsureSuccess("bed");
            var id = (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "solo/registervm", dir + "/lock.vmx", name))).EnsureSuccess("bed").Stdout.Trim();
            return new LabVm(ssh, id, dir);
        }

        public async ValueTask DisposeAsync()
        {
            await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/power.off", Id));
            await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.removeall", Id));
            await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/unregister", Id));
            await ssh.RunAsync(ShellQuote.Join("rm", "-rf", Dir));
        }
    }
}
