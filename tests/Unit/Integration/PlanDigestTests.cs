using Ceso.Engine;
using Ceso.Engine.CloudInit;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;
using Ceso.Engine.Shell;

namespace Ceso.Tests.Integration;

/// <summary>Plan digests and seeded identities: the same request on the same host state plans the same, anything else does not.</summary>
[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class PlanDigestTests(TestBed bed)
{
    private async Task<(Ceso.Engine.Connection.CesoSession Session, VmOperations Vms, PlanExecutor Executor)> Open(Transport transport) =>
        await bed.OpenOperationsAsync(transport);

    private static CreateVmRequest Web(string name) => new()
    {
        Name = name,
        Template = "vm01",
        Guest = new GuestInfoRequest { VmName = name, IPAddresses = ["10.0.0.21/24"], SshKeys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7 me@host"] },
    };

    [Theory]
    [InlineData(Transport.Ssh)]
    [InlineData(Transport.Soap)]
    public async Task Planning_the_same_request_twice_gives_the_same_digest_and_the_same_new_identity(Transport transport)
    {
        var ops = await Open(transport);
        await using var _ = ops.Session;
        var (a, _) = await ops.Vms.PlanCreateAsync(Web("digest01"));
        var (b, _) = await ops.Vms.PlanCreateAsync(Web("digest01"));

        Assert.StartsWith("sha256:", PlanDigest.Of(a));
        Assert.Equal(PlanDigest.Of(a), PlanDigest.Of(b));
        Assert.Equal(a.Notes, b.Notes); // the BIOS UUID, MACs and instance-id the preview names
        Assert.NotEqual(PlanDigest.Of(a), PlanDigest.Of((await ops.Vms.PlanCreateAsync(Web("digest02"))).Plan));
    }

    [Fact]
    public async Task What_the_preview_names_is_what_the_run_writes()
    {
        var ops = await Open(Transport.Ssh);
        await using var _ = ops.Session;
        var (preview, _) = await ops.Vms.PlanCreateAsync(Web("digest03"));
        var (plan, _) = await ops.Vms.PlanCreateAsync(Web("digest03"));
        await ops.Executor.ExecuteAsync(plan);
        try
        {
            var vm = (await ops.Vms.RefreshAsync("digest03"))!;
            var identity = preview.Notes.Single(n => n.StartsWith("new BIOS UUID", StringComparison.Ordinal));
            Assert.Contains(vm.BiosUuid!, identity, StringComparison.OrdinalIgnoreCase);
            Assert.Contains(vm.Nics[0].MacAddress!, identity, StringComparison.OrdinalIgnoreCase);
            // Every record of the run carries the digest the preview showed.
            var records = Ceso.Engine.Security.AuditLog.Open(bed.Home, new Ceso.Engine.Security.Redactor()).Read().Where(r => r.Vm == "digest03" && r.Result == "ok").ToList();
            Assert.NotEmpty(records);
            Assert.All(records, r => Assert.Equal(PlanDigest.Of(preview), r.Plan));
        }
        finally
        {
            await ops.Executor.ExecuteAsync((await ops.Vms.PlanRemoveAsync("digest03", false)).Plan);
        }
    }

    [Theory]
    [InlineData(Transport.Ssh)]
    [InlineData(Transport.Soap)]
    public async Task A_change_on_the_host_gives_another_digest(Transport transport)
    {
        var ops = await Open(transport);
        await using var _ = ops.Session;
        await ops.Executor.ExecuteAsync((await ops.Vms.PlanCloneAsync(new CloneVmRequest { Source = "vm02", Name = "digest-src" })).Plan);
        try
        {
            var request = new CloneVmRequest { Source = "digest-src", Name = "digest-copy" };
            var before = PlanDigest.Of((await ops.Vms.PlanCloneAsync(request)).Plan);
            Assert.Equal(before, PlanDigest.Of((await ops.Vms.PlanCloneAsync(request)).Plan));

            // Someone edits the source between the preview and the run: its .vmx now says 3 vCPUs.
            await ops.Executor.ExecuteAsync((await ops.Vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = "digest-src", NumCpu = 3 })).Plan);

            Assert.NotEqual(before, PlanDigest.Of((await ops.Vms.PlanCloneAsync(request)).Plan));
        }
        finally
        {
            await ops.Executor.ExecuteAsync((await ops.Vms.PlanRemoveAsync("digest-src", false)).Plan);
        }
    }

    private static (string Uuid, string Mac) IdentityOf(Plan plan)
    {
        var m = System.Text.RegularExpressions.Regex.Match(plan.Notes.Single(n => n.StartsWith("new BIOS UUID", StringComparison.Ordinal)),
            "^new BIOS UUID ([0-9a-f-]+), MAC\\(s\\) ([0-9a-f:]+)");
        Assert.True(m.Success, "no identity note");
        return (m.Groups[1].Value, m.Groups[2].Value);
    }

    [Fact]
    public async Task A_vm_removed_and_planned_again_from_the_same_request_gets_a_new_identity()
    {
        var ops = await Open(Transport.Ssh);
        await using var _ = ops.Session;
        var (plan, _) = await ops.Vms.PlanCreateAsync(Web("again01"));
        var first = IdentityOf(plan);
        await ops.Executor.ExecuteAsync(plan);
        await ops.Executor.ExecuteAsync((await ops.Vms.PlanRemoveAsync("again01", false)).Plan);

        // The host is as it was before the first run, and the request is the same: the old identity must not come back.
        var (again, _) = await ops.Vms.PlanCreateAsync(Web("again01"));
        var second = IdentityOf(again);
        Assert.NotEqual(first.Uuid, second.Uuid);
        Assert.NotEqual(first.Mac, second.Mac);
        Assert.Equal(PlanDigest.Of(again), PlanDigest.Of((await ops.Vms.PlanCreateAsync(Web("again01"))).Plan)); // still stable
    }

    [Theory]
    [InlineData(Transport.Ssh)]
    [InlineData(Transport.Soap)]
    public async Task A_derived_mac_or_bios_uuid_that_a_vm_on_the_host_has_is_derived_again(Transport transport)
    {
        var ops = await Open(transport);
        await using var _ = ops.Session;
        var name = "clash-" + transport.ToString().ToLowerInvariant();
        var other = name + "-other";
        var (plan, _) = await ops.Vms.PlanCreateAsync(Web(name));
        var derived = IdentityOf(plan);

        // Another VM (made behind Ceso's back) has exactly the UUID and MAC the plan derived.
        await using var ssh = await bed.ConnectAsync(Transport.Ssh);
        var local = Path.Combine(bed.Info.Datastores[0].LocalDir, other);
        (await ssh.Ssh!.RunAsync(ShellQuote.Join("cp", "-r", "/vmfs/volumes/datastore1/vm04", "/vmfs/volumes/datastore1/" + other))).EnsureSuccess("bed");
        var vmxFile = Path.Combine(local, "vm04.vmx");
        var vmx = Ceso.Engine.Formats.VmxFile.Parse(File.ReadAllText(vmxFile));
        var hex = derived.Uuid.Replace("-", "", StringComparison.Ordinal);
        var pairs = Enumerable.Range(0, 16).Select(i => hex.Substring(i * 2, 2)).ToArray();
        vmx.Set("displayName", other);
        vmx.Set("uuid.bios", string.Join(' ', pairs[..8]) + "-" + string.Join(' ', pairs[8..]));
        vmx.Remove("ethernet0.generatedAddress");
        vmx.Set("ethernet0.addressType", "static");
        vmx.Set("ethernet0.address", derived.Mac);
        File.WriteAllText(vmxFile, vmx.ToString());
        var id = (await ssh.Ssh!.RunAsync(ShellQuote.Join("vim-cmd", "solo/registervm", $"/vmfs/volumes/datastore1/{other}/vm04.vmx", other))).EnsureSuccess("bed").Stdout.Trim();
        try
        {
            var seen = (await ops.Vms.RefreshAsync(other))!;
            Assert.Equal(derived.Mac, seen.Nics[0].MacAddress, ignoreCase: true); // the inventory shows what the plan checks against
            Assert.Equal(derived.Uuid, seen.BiosUuid, ignoreCase: true);

            var (replanned, _) = await ops.Vms.PlanCreateAsync(Web(name));
            var fresh = IdentityOf(replanned);
            Assert.NotEqual(derived.Uuid, fresh.Uuid);
            Assert.NotEqual(derived.Mac, fresh.Mac);
            Assert.Equal(PlanDigest.Of(replanned), PlanDigest.Of((await ops.Vms.PlanCreateAsync(Web(name))).Plan));
        }
        finally
        {
            await ssh.Ssh!.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/unregister", id));
            await ssh.Ssh!.RunAsync(ShellQuote.Join("rm", "-rf", "/vmfs/volumes/datastore1/" + other));
        }
    }

    [Fact]
    public async Task A_hot_copy_plans_the_same_snapshot_name_twice_and_no_user_snapshot_has_it()
    {
        var ops = await Open(Transport.Ssh);
        await using var _ = ops.Session;
        await ops.Executor.ExecuteAsync((await ops.Vms.PlanPowerAsync("vm03", PowerAction.Start)).Plan);
        try
        {
            var request = new CloneVmRequest { Source = "vm03", Name = "digest-hot", Hot = true };
            var a = (await ops.Vms.PlanCloneAsync(request)).Plan;
            var b = (await ops.Vms.PlanCloneAsync(request)).Plan;
            Assert.Equal(PlanDigest.Of(a), PlanDigest.Of(b));
            Assert.Contains(a.Steps, s => s.Command.Contains("ceso-copy-digest-hot-", StringComparison.Ordinal));
        }
        finally
        {
            await ops.Executor.ExecuteAsync((await ops.Vms.PlanPowerAsync("vm03", PowerAction.Kill)).Plan);
        }
    }

    [Fact]
    public async Task Waiting_for_an_ip_times_out_with_the_vm_as_last_seen_and_returns_it_once_tools_report_one()
    {
        var ops = await Open(Transport.Soap);
        await using var _ = ops.Session;
        var soap = ops.Session;
        await ops.Executor.ExecuteAsync((await ops.Vms.PlanPowerAsync("vm02", PowerAction.Start)).Plan);
        try
        {
            var timeout = await Assert.ThrowsAsync<IpWaitTimeoutException>(() => ops.Vms.WaitForIpAsync("vm02", TimeSpan.FromMilliseconds(300), pollInterval: TimeSpan.FromMilliseconds(100)));
            Assert.Equal("IpWaitTimeout", timeout.ErrorId);
            Assert.Equal(CesoPowerState.PoweredOn, timeout.LastSeen.PowerState);

            var id = timeout.LastSeen.Id;
            var waiting = ops.Vms.WaitForIpAsync("vm02", TimeSpan.FromSeconds(30), pollInterval: TimeSpan.FromMilliseconds(100));
            // vcsim's way to play VMware Tools reporting from inside the guest.
            await BehindCesosBack.SetExtraConfigAsync(soap, id, ("SET.guest.ipAddress", "10.20.30.41"));

            var vm = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Contains("10.20.30.41", vm.IPAddresses);
        }
        finally
        {
            await ops.Executor.ExecuteAsync((await ops.Vms.PlanPowerAsync("vm02", PowerAction.Kill)).Plan);
        }
    }
}
