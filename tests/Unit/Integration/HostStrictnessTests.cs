using System.Diagnostics;
using Ceso.Engine;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Shell;

namespace Ceso.Tests.Integration;

/// <summary>Ceso against test-bed behaviours of real hosts that are less kind than vcsim (testbed/SPEC.md).</summary>
[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class HostStrictnessTests(TestBed bed)
{
    [Fact]
    public async Task Disk_copy_progress_moves_while_vmkfstools_holds_back_its_output()
    {
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var ssh = session.Ssh!;
        const string dir = "/vmfs/volumes/datastore1/ceso-progress";
        try
        {
            // A 256 MB thin disk holding 48 MB of data; at 12 MB/s its copy takes about 4 s.
            (await ssh.RunAsync(ShellQuote.Join("mkdir", "-p", dir))).EnsureSuccess("bed");
            (await ssh.RunAsync(ShellQuote.Join("vmkfstools", "-c", "256M", "-d", "thin", dir + "/src.vmdk"))).EnsureSuccess("bed");
            (await ssh.RunAsync(ShellQuote.Join("dd", "if=/dev/urandom", "of=" + dir + "/src-flat.vmdk", "bs=1M", "count=48", "conv=notrunc"))).EnsureSuccess("bed");
            bed.Fault("vmkfstoolsBuffered=on", "diskCopyMBps=12");
            var commands = new SshHostCommands(ssh, "bed") { CopyPollInterval = TimeSpan.FromMilliseconds(400) };
            var call = commands.CopyDisk(new DatastorePath("datastore1", "ceso-progress/src.vmdk"), new DatastorePath("datastore1", "ceso-progress/dst.vmdk"));
            var seen = new List<(int Percent, TimeSpan At)>();
            var clock = Stopwatch.StartNew();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));

            await call.RunWithProgress!(new Recorder(p => { lock (seen) { seen.Add((p, clock.Elapsed)); } }), cts.Token);
            var end = clock.Elapsed;

            // Before the end (the held-back "Clone:" lines all arrive in the last instant) the copy was seen moving.
            Assert.Contains(seen, s => s.Percent is > 0 and < 100 && s.At < end - TimeSpan.FromSeconds(1));
            Assert.Equal(100, seen[^1].Percent);
            Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First.Percent < p.Second.Percent), "progress went back: " + string.Join(",", seen));
            var same = await ssh.RunAsync(ShellQuote.Join("cmp", dir + "/src-flat.vmdk", dir + "/dst-flat.vmdk"));
            Assert.True(same.ExitCode == 0, same.Stdout + same.Stderr);
        }
        finally
        {
            bed.ClearFaults();
            await ssh.RunAsync(ShellQuote.Join("rm", "-rf", dir));
        }
    }

    [Fact]
    public async Task A_failed_copy_while_vmkfstools_holds_back_its_output_reports_the_hosts_text()
    {
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var vm = (await session.Inventory.GetVmsAsync())[0];
        var source = DatastorePath.Parse(vm.Disks[0].Path);
        bed.Fault("vmkfstoolsBuffered=on", "datastoreFull=datastore1");
        try
        {
            var call = new SshHostCommands(session.Ssh!, "bed").CopyDisk(source, source.Folder.Child("never.vmdk"));
            var e = await Assert.ThrowsAsync<RemoteCommandException>(() => call.RunWithProgress!(new Recorder(_ => { }), CancellationToken.None));
            Assert.Contains("not enough space", e.Message);
        }
        finally
        {
            bed.ClearFaults();
        }
    }

    [Theory]
    [InlineData("on")]
    [InlineData("exit1")]
    public async Task A_power_on_that_vim_cmd_answers_with_power_on_failed_in_plain_text_is_reported_as_a_failure(string fault)
    {
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var vm = (await session.Inventory.GetVmsAsync()).First(v => v.PowerState == CesoPowerState.PoweredOff);
        bed.Fault("powerOnFailText=" + fault);
        try
        {
            var call = new SshHostCommands(session.Ssh!, "bed").PowerOn(new VmHandle(vm.Name, vm.Id));
            var e = await Assert.ThrowsAsync<RemoteCommandException>(() => call.Run(CancellationToken.None));
            Assert.Contains("Power on failed", e.Message);
            Assert.Contains($"vim-cmd vmsvc/power.on {vm.Id}", e.Message);
        }
        finally
        {
            bed.ClearFaults();
        }

        Assert.Equal(CesoPowerState.PoweredOff, (await ((SshInventory)session.Inventory).GetVmAsync(vm.Id)).PowerState);
    }

    [Fact]
    public async Task A_multi_line_annotation_whose_next_line_looks_like_a_getallvms_row_changes_nothing_in_ssh_discovery()
    {
        await using var soap = await bed.ConnectAsync(Transport.Soap);
        await using var ssh = await bed.ConnectAsync(Transport.Ssh);
        var vm = (await soap.Inventory.GetVmsAsync()).Single(v => v.Name == "vm04");
        Task Annotate(string text) => BehindCesosBack.AnnotateAsync(soap, vm.Id, text);
        await Annotate("owner: ops\n9999   ghost   [datastore1] ghost/ghost.vmx   ubuntu64Guest   vmx-19\nend of notes");
        try
        {
            var listing = (await ssh.Ssh!.RunAsync("vim-cmd vmsvc/getallvms")).EnsureSuccess("bed").Stdout;
            Assert.Contains("\n9999   ghost", listing);

            var viaSsh = await ssh.Inventory.GetVmsAsync();
            var viaSoap = await soap.Inventory.GetVmsAsync();
            Assert.Equal(viaSoap.Select(v => v.Id), viaSsh.Select(v => v.Id));
            Assert.Equal(System.Text.Json.JsonSerializer.Serialize(viaSoap), System.Text.Json.JsonSerializer.Serialize(viaSsh));
        }
        finally
        {
            await Annotate(vm.Annotation ?? "");
        }
    }

    private sealed class Recorder(Action<int> onReport) : IProgress<int>
    {
        public void Report(int value) => onReport(value);
    }
}
