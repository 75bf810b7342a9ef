using System.Text.Json;
using Ceso.Engine.Hosts;

namespace Ceso.Tests.Integration;

/// <summary>SSH discovery gathers every VM's reads in one command: through the host's python, or the plain shell loop.</summary>
[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SshBatchedReadsTests(TestBed bed)
{
    /// <summary>Commands framed on the persistent shell since <paramref name="mark"/> (one closing line each).</summary>
    internal static int ShellCommands(IEnumerable<CallRecord> calls) =>
        calls.Count(c => c.Channel == "ssh" && c.Kind == "stdin" && c.Name.Contains("__ceso_rc=$?", StringComparison.Ordinal));

    internal static int ToolRuns(IEnumerable<CallRecord> calls, string prefix) =>
        calls.Count(c => c.Channel == "ssh" && c.Kind == "exec" && c.Name.StartsWith(prefix, StringComparison.Ordinal));

    [Theory]
    [InlineData("on", true)]
    [InlineData("off", false)]
    [InlineData("refused", false)]
    public async Task Batched_discovery_gives_the_same_vms_as_one_command_per_read_with_python_or_without(string python, bool usesPython)
    {
        bed.Fault($"python={python}");
        try
        {
            await using var ssh = await bed.ConnectAsync(Transport.Ssh);
            var inventory = (SshInventory)ssh.Inventory;
            var oneByOne = await inventory.GetVmsOneCallPerCommandAsync();

            var mark = bed.Calls().Count;
            var batched = await inventory.GetVmsAsync();
            var calls = bed.CallsSince(mark);

            Assert.Equal(usesPython, inventory.UsesPython);
            Assert.Equal(TestBed.InitialVms, batched.Count);
            Assert.Equal(JsonSerializer.Serialize(oneByOne), JsonSerializer.Serialize(batched));
            Assert.Equal(TestBed.InitialVms, ToolRuns(calls, "vim-cmd vmsvc/get.config"));
            Assert.Equal(TestBed.InitialVms, ToolRuns(calls, "vim-cmd vmsvc/get.snapshotinfo"));
            // getallvms + the batch; without python the first batch also asked python once (it answered nothing).
            Assert.Equal(usesPython ? 2 : 3, ShellCommands(calls));

            mark = bed.Calls().Count;
            await inventory.GetVmsAsync();
            Assert.Equal(2, ShellCommands(bed.CallsSince(mark)));
        }
        finally
        {
            bed.ClearFaults();
        }
    }

    [Fact]
    public async Task Soap_and_batched_ssh_discovery_agree_over_the_shell_loop_too()
    {
        bed.Fault("python=off");
        try
        {
            await using var soap = await bed.ConnectAsync(Transport.Soap);
            await using var ssh = await bed.ConnectAsync(Transport.Ssh);
            Assert.Equal(JsonSerializer.Serialize(await soap.Inventory.GetVmsAsync()), JsonSerializer.Serialize(await ssh.Inventory.GetVmsAsync()));
            Assert.False(((SshInventory)ssh.Inventory).UsesPython);
        }
        finally
        {
            bed.ClearFaults();
        }
    }

    [Theory]
    [InlineData("on")]
    [InlineData("off")]
    public async Task Notes_that_look_like_frames_and_rows_change_nothing_on_either_path(string python)
    {
        await using var soap = await bed.ConnectAsync(Transport.Soap);
        var vm = (await soap.Inventory.GetVmsAsync()).Single(v => v.Name == "vm03");
        Task Annotate(string text) => BehindCesosBack.AnnotateAsync(soap, vm.Id, text);
        await Annotate("x\nceso-reads-0123456789abcdef0123456789abcdef end\nceso-reads-0123456789abcdef0123456789abcdef rc 1\n" +
            "ceso-reads- out 9999 vmsvc/get.config\n9999   ghost   [datastore1] ghost/ghost.vmx   ubuntu64Guest   vmx-19\n'\"; exit 3\n");
        bed.Fault($"python={python}");
        try
        {
            await using var ssh = await bed.ConnectAsync(Transport.Ssh);
            var viaSsh = await ssh.Inventory.GetVmsAsync();
            var viaSoap = await soap.Inventory.GetVmsAsync();
            Assert.Contains("ceso-reads- out 9999", viaSsh.Single(v => v.Id == vm.Id).Annotation);
            Assert.Equal(JsonSerializer.Serialize(viaSoap), JsonSerializer.Serialize(viaSsh));
        }
        finally
        {
            bed.ClearFaults();
            await Annotate(vm.Annotation ?? "");
        }
    }

    [Fact]
    public async Task One_vm_by_id_is_one_command_and_an_unknown_vmid_fails_as_not_found()
    {
        await using var ssh = await bed.ConnectAsync(Transport.Ssh);
        var inventory = (SshInventory)ssh.Inventory;
        var all = await inventory.GetVmsAsync();

        var mark = bed.Calls().Count;
        var one = await inventory.GetVmAsync(all[1].Id);
        Assert.Equal(1, ShellCommands(bed.CallsSince(mark)));
        Assert.Equal(JsonSerializer.Serialize(all[1]), JsonSerializer.Serialize(one));

        var e = await Assert.ThrowsAsync<Ceso.Engine.RemoteCommandException>(() => inventory.GetVmAsync("99999"));
        Assert.Contains("vim.fault.NotFound", e.Stderr);
        Assert.Equal("vim-cmd vmsvc/get.config 99999", e.Command);
    }

    [Fact]
    public async Task Refreshing_a_vm_by_id_over_ssh_reads_that_vm_alone_and_a_gone_id_is_null()
    {
        var (session, ops, _) = await bed.OpenOperationsAsync(Transport.Ssh);
        await using var _ = session;
        var all = await session.Inventory.GetVmsAsync();

        var mark = bed.Calls().Count;
        var vm = await ops.RefreshAsync(all[2].Id);
        var calls = bed.CallsSince(mark);
        Assert.Equal(JsonSerializer.Serialize(all[2]), JsonSerializer.Serialize(vm));
        Assert.Equal(1, ShellCommands(calls));
        Assert.Equal(4, ToolRuns(calls, "vim-cmd"));

        Assert.Null(await session.Inventory.GetVmByIdAsync("99999"));
        Assert.Null(await ops.RefreshAsync("99999"));
        Assert.Equal(all[3].Id, (await ops.RefreshAsync(all[3].Name))!.Id);
    }
}

/// <summary>What SSH discovery costs in host commands does not grow with the number of VMs.</summary>
[Collection(TestBed12VmsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SshDiscoveryCostTests(TestBed12Vms big)
{
    [Fact]
    public async Task Ssh_discovery_runs_the_same_number_of_shell_commands_for_12_vms_as_for_4()
    {
        async Task<(int Vms, int Commands, int Tools)> Measure(TestBed bed)
        {
            await using var ssh = await bed.ConnectAsync(Transport.Ssh);
            await ssh.Inventory.GetVmsAsync(); // the first batch learns whether python answers
            var mark = bed.Calls().Count;
            var vms = await ssh.Inventory.GetVmsAsync();
            var calls = bed.CallsSince(mark);
            return (vms.Count, SshBatchedReadsTests.ShellCommands(calls), SshBatchedReadsTests.ToolRuns(calls, "vim-cmd"));
        }

        var small = new TestBed();
        await small.InitializeAsync();
        try
        {
            var four = await Measure(small);
            var twelve = await Measure(big);

            Assert.Equal((4, 12), (four.Vms, twelve.Vms));
            Assert.Equal(2, four.Commands);
            Assert.Equal(four.Commands, twelve.Commands);
            // The host still runs the vim-cmd calls (1 + 4 per VM), now side by side in one command.
            Assert.Equal((1 + 4 * 4, 1 + 4 * 12), (four.Tools, twelve.Tools));
        }
        finally
        {
            await small.DisposeAsync();
        }
    }
}
