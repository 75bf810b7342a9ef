using System.Text.Json;
using Ceso.Engine;
using Ceso.Engine.CloudInit;
using Ceso.Engine.Connection;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;
using Ceso.Engine.Security;
using Ceso.Engine.Shell;

namespace Ceso.Tests.Integration;

[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class VmLifecycleTests(TestBed bed)
{
    private const string Key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb1x3Yz0Vx5Rr3Ck9h2mZ7s3Yx0a8mR2qf5p2n0c1dE ops@laptop";

    private sealed record Ops(CesoSession Session, VmOperations Vms, PlanExecutor Executor) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Session.DisposeAsync();
    }

    private async Task<Ops> OpenAsync(Transport transport)
    {
        var (session, vms, executor) = await bed.OpenOperationsAsync(transport);
        return new Ops(session, vms, executor);
    }

    private static string Template => "vm01";

    private async Task RemoveAsync(Ops ops, string name)
    {
        var vm = await ops.Vms.RefreshAsync(name);
        if (vm is null)
        {
            return;
        }

        if (vm.PowerState == CesoPowerState.PoweredOn)
        {
            await ops.Executor.ExecuteAsync((await ops.Vms.PlanPowerAsync(name, PowerAction.Kill)).Plan);
        }

        await ops.Executor.ExecuteAsync((await ops.Vms.PlanRemoveAsync(name, keepFiles: false)).Plan);
    }

    [Theory]
    [InlineData(Transport.Ssh)]
    [InlineData(Transport.Soap)]
    public async Task A_vm_created_from_a_template_has_its_own_identity_guestinfo_and_real_disk(Transport transport)
    {
        await using var ops = await OpenAsync(transport);
        var name = "web-" + transport.ToString().ToLowerInvariant();
        var template = (await ops.Vms.RefreshAsync(Template))!;
        try
        {
            var (plan, handle) = await ops.Vms.PlanCreateAsync(new CreateVmRequest
            {
                Name = name,
                Template = Template,
                NumCpu = 4,
                MemoryMB = 2048,
                DiskGB = 2,
                Guest = new GuestInfoRequest { VmName = name, IPAddresses = ["10.1.2.3/24"], DnsServers = ["10.1.2.1"], SshKeys = [Key] },
                PowerOn = true,
            });
            Assert.Contains("<vmid of", plan.Steps[^1].Command); // the preview cannot know the new id
            var result = await ops.Executor.ExecuteAsync(plan);

            var vm = (await ops.Vms.RefreshAsync(name))!;
            Assert.Equal(result.IdOf(handle), vm.Id); // the run learnt it (the plan keeps none)
            Assert.Equal(CesoPowerState.PoweredOn, vm.PowerState);
            var powerOn = AuditLog.Open(bed.Home, new Redactor()).Read().Last(r => r.Vm == name && r.Result == "ok");
            Assert.Contains(vm.Id, powerOn.Command); // the audit log has the id the host gave
            Assert.DoesNotContain("<vmid of", powerOn.Command);
            Assert.Equal((4, 2048L), (vm.NumCpu, vm.MemoryMB));
            Assert.Equal(2L << 30, vm.Disks[0].CapacityBytes);
            Assert.Equal($"[datastore1] {name}/{name}.vmdk", vm.Disks[0].Path);
            Assert.NotEqual(template.BiosUuid, vm.BiosUuid);
            Assert.DoesNotContain(vm.Nics[0].MacAddress, template.Nics.Select(n => n.MacAddress));

            await using var ssh = await bed.ConnectAsync(Transport.Ssh);
            var vmx = VmxFile.Parse((await ssh.Ssh!.RunAsync(ShellQuote.Join("cat", $"/vmfs/volumes/datastore1/{name}/{name}.vmx"))).Stdout);
            var metadata = JsonDocument.Parse(GuestInfoBuilder.Decode(vmx["guestinfo.metadata"]!)).RootElement;
            Assert.Equal(name, metadata.GetProperty("local-hostname").GetString());
            var eth = metadata.GetProperty("network").GetProperty("ethernets").GetProperty("eth0");
            Assert.Equal(vm.Nics[0].MacAddress, eth.GetProperty("match").GetProperty("macaddress").GetString());
            Assert.Equal("10.1.2.3/24", eth.GetProperty("addresses")[0].GetString());
            Assert.Contains(Key, GuestInfoBuilder.Decode(vmx["guestinfo.userdata"]!));

            // The copy runs, so the host refuses reads of its flat disk (as ESXi does): compare the files beside the test bed.
            var local = bed.Info.Datastores[0].LocalDir;
            var templateHead = await ReadHeadAsync(Path.Combine(local, Template, Template + "-flat.vmdk"));
            var copyHead = await ReadHeadAsync(Path.Combine(local, name, name + "-flat.vmdk"));
            Assert.Equal(templateHead, copyHead);
            Assert.Contains(templateHead, b => b != 0); // the template's disk has data where the test bed marks it
        }
        finally
        {
            await RemoveAsync(ops, name);
        }

        Assert.Null(await ops.Vms.RefreshAsync(name));
    }

    [Fact]
    public async Task A_cold_copy_gets_a_new_bios_uuid_new_macs_and_a_new_instance_id()
    {
        await using var ops = await OpenAsync(Transport.Auto);
        var source = (await ops.Vms.RefreshAsync("vm02"))!;
        try
        {
            var (plan, _) = await ops.Vms.PlanCloneAsync(new CloneVmRequest { Source = "vm02", Name = "vm02-copy", Guest = new GuestInfoRequest { VmName = "vm02-copy", IPAddresses = ["10.9.9.9/24"] } });
            await ops.Executor.ExecuteAsync(plan);

            var copy = (await ops.Vms.RefreshAsync("vm02-copy"))!;
            Assert.NotEqual(source.BiosUuid, copy.BiosUuid);
            Assert.Equal(source.Nics.Count, copy.Nics.Count);
            Assert.Empty(copy.Nics.Select(n => n.MacAddress).Intersect(source.Nics.Select(n => n.MacAddress)));
            Assert.Equal(source.Disks.Select(d => d.CapacityBytes), copy.Disks.Select(d => d.CapacityBytes));
            Assert.Contains(plan.Notes, n => n.Contains("instance-id i-"));
        }
        finally
        {
            await RemoveAsync(ops, "vm02-copy");
        }
    }

    [Fact]
    public async Task A_hot_copy_of_a_running_vm_removes_its_snapshot_afterwards()
    {
        await using var ops = await OpenAsync(Transport.Auto);
        await ops.Executor.ExecuteAsync((await ops.Vms.PlanPowerAsync("vm03", PowerAction.Start)).Plan);
        try
        {
            var (plan, _) = await ops.Vms.PlanCloneAsync(new CloneVmRequest { Source = "vm03", Name = "vm03-hot", Hot = true });
            Assert.Contains(plan.Steps, s => s.Title.StartsWith("Snapshot", StringComparison.Ordinal));
            await ops.Executor.ExecuteAsync(plan);

            Assert.Equal(0, (await ops.Vms.RefreshAsync("vm03"))!.SnapshotCount);
            Assert.Equal(CesoPowerState.PoweredOn, (await ops.Vms.RefreshAsync("vm03"))!.PowerState);
            Assert.NotNull(await ops.Vms.RefreshAsync("vm03-hot"));
        }
        finally
        {
            await RemoveAsync(ops, "vm03-hot");
            await ops.Executor.ExecuteAsync((await ops.Vms.PlanPowerAsync("vm03", PowerAction.Kill)).Plan);
        }
    }

    [Fact]
    public async Task Planning_every_operation_writes_nothing_on_the_host()
    {
        await using var ops = await OpenAsync(Transport.Auto);
        var mark = bed.Calls().Count;

        var plans = new List<Plan>
        {
            (await ops.Vms.PlanCreateAsync(new CreateVmRequest { Name = "whatif1", Template = Template, DiskGB = 3, Guest = new GuestInfoRequest { VmName = "whatif1", IPAddresses = ["10.0.0.5/24"] } })).Plan,
            (await ops.Vms.PlanCloneAsync(new CloneVmRequest { Source = "vm02", Name = "whatif2" })).Plan,
            (await ops.Vms.PlanPowerAsync("vm02", PowerAction.Start)).Plan,
            (await ops.Vms.PlanRemoveAsync("vm04", keepFiles: false)).Plan,
            (await ops.Vms.PlanRemoveAsync("vm04", keepFiles: true)).Plan,
            (await ops.Vms.PlanReconfigureAsync(new ReconfigureRequest
            {
                Vm = "vm04", NumCpu = 3, MemoryMB = 1536, AddDiskGB = 1, ExtendDisk = (0, 2), AddNicNetwork = "Lab Network", AdapterType = (0, "e1000e"),
                Firmware = "efi", SecureBoot = true, IsoPath = "[datastore1] iso/ubuntu.iso", Guest = new GuestInfoRequest { VmName = "vm04", IPAddresses = ["10.0.0.9/24"] },
            })).Plan,
            (await ops.Vms.PlanProtectionAsync("vm04", protect: true)).Plan,
        };
        foreach (var p in plans)
        {
            ops.Executor.RecordPreview(p);
        }

        Assert.All(plans, p => Assert.NotEmpty(p.Steps));
        var writes = bed.CallsSince(mark).Where(c => c.Write && c.Name is not ("Login" or "Logout")).ToList();
        Assert.True(writes.Count == 0, "planning wrote: " + string.Join("; ", writes.Select(w => w.Name)));
        Assert.Contains(plans[0].Steps, s => s.Command.Contains("CopyVirtualDisk_Task", StringComparison.Ordinal));
        Assert.Contains(plans[0].Steps, s => ops.Executor.Show(s).Contains("vmkfstools -i", StringComparison.Ordinal)); // the SSH fallback is shown too
        Assert.Contains(plans[0].Notes, n => n.StartsWith("gateway 10.0.0.1", StringComparison.Ordinal));
        // -WhatIf shows the defaulted gateway with the step that writes it (the ShouldProcess action text).
        Assert.Contains(plans[0].Steps, s => ops.Executor.Show(s) is var shown && shown.Contains("(note: ", StringComparison.Ordinal) && shown.Contains("gateway 10.0.0.1 (first host", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Power_plans_for_every_action_write_nothing_until_executed()
    {
        await using var ops = await OpenAsync(Transport.Ssh);
        await ops.Executor.ExecuteAsync((await ops.Vms.PlanPowerAsync("vm04", PowerAction.Start)).Plan);
        try
        {
            var mark = bed.Calls().Count;
            var plans = new[] { PowerAction.Shutdown, PowerAction.Kill, PowerAction.Reset }
                .Select(a => ops.Vms.PlanPowerAsync("vm04", a).Result.Plan).ToList();
            Assert.All(plans, p => Assert.Single(p.Steps));
            Assert.DoesNotContain(bed.CallsSince(mark), c => c.Write);
            Assert.Empty((await ops.Vms.PlanPowerAsync("vm04", PowerAction.Start)).Plan.Steps); // already on: nothing to do

            await ops.Executor.ExecuteAsync(plans[0]); // guest shutdown waits until the VM is off
            Assert.Equal(CesoPowerState.PoweredOff, (await ops.Vms.RefreshAsync("vm04"))!.PowerState);
        }
        finally
        {
            await ops.Executor.ExecuteAsync((await ops.Vms.PlanPowerAsync("vm04", PowerAction.Kill)).Plan);
        }
    }

    [Fact]
    public async Task A_suspended_VM_is_refused_a_guest_shutdown_with_advice_and_can_be_killed()
    {
        await using var ops = await OpenAsync(Transport.Ssh);
        await ops.Executor.ExecuteAsync((await ops.Vms.PlanPowerAsync("vm04", PowerAction.Start)).Plan);
        try
        {
            var id = (await ops.Vms.RefreshAsync("vm04"))!.Id;
            await ops.Session.Ssh!.RunAsync($"vim-cmd vmsvc/power.suspend {ShellQuote.Quote(id)}");
            Assert.Equal(CesoPowerState.Suspended, (await ops.Vms.RefreshAsync("vm04"))!.PowerState);

            var e = await Assert.ThrowsAsync<CesoException>(() => ops.Vms.PlanPowerAsync("vm04", PowerAction.Shutdown));
            Assert.Equal("InvalidPowerState", e.ErrorId);
            Assert.Contains("-Kill", e.Message);
            Assert.Single((await ops.Vms.PlanPowerAsync("vm04", PowerAction.Kill)).Plan.Steps);
        }
        finally
        {
            await ops.Executor.ExecuteAsync((await ops.Vms.PlanPowerAsync("vm04", PowerAction.Kill)).Plan);
        }

        Assert.Equal(CesoPowerState.PoweredOff, (await ops.Vms.RefreshAsync("vm04"))!.PowerState);
    }

    [Fact]
    public async Task A_protected_VM_is_refused_in_words_that_name_the_action()
    {
        await using var ops = await OpenAsync(Transport.Ssh);
        var vm = (await ops.Vms.RefreshAsync("vm04"))!;
        var e = Assert.Throws<CesoException>(() => ops.Vms.CheckNotProtected(vm with { Annotation = VmxIdentity.ProtectedTag }, PowerAction.Shutdown));
        Assert.Equal("VmProtected", e.ErrorId);
        Assert.Contains("will not shut down 'vm04'", e.Message);
    }

    [Fact]
    public async Task Secrets_never_reach_the_audit_log_the_preview_or_errors_of_a_real_run()
    {
        var home = new CesoHome(Directory.CreateTempSubdirectory("ceso-secrets-").FullName);
        await using var session = await bed.ConnectAsync(Transport.Auto, home);
        var redactor = new Redactor();
        redactor.Add(bed.Info.Password);
        const string token = "tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0";
        redactor.Add(token);
        var audit = AuditLog.Open(home, redactor);
        var executor = new PlanExecutor(audit, redactor, new AuditActor("tester", null));
        var vms = new VmOperations(session, home);
        var userData = $"#cloud-config\nwrite_files:\n  - path: /etc/app.env\n    content: \"API_TOKEN={token}\"\n";
        var (plan, _) = await vms.PlanCreateAsync(new CreateVmRequest
        {
            Name = "secret01", Template = Template,
            Guest = new GuestInfoRequest { VmName = "secret01", SshKeys = [Key], ExtraUserData = userData },
        });
        var shown = string.Join("\n", plan.Steps.Select(executor.Show));
        executor.RecordPreview(plan);
        PlanFailedException failure;
        var progress = new ProgressRecorder();
        try
        {
            await executor.ExecuteAsync(plan);

            // The user-data above only travels encoded; notes travel in plain text (the step names the change), and a
            // full datastore makes the step fail, so the token reaches the error and the audit log unless redacted.
            var (notes, _) = await vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = "secret01", Annotation = $"deploy token {token}" });
            Assert.Contains(notes.Steps, s => s.Title.Contains(token, StringComparison.Ordinal) || s.Command.Contains(token, StringComparison.Ordinal));
            shown += "\n" + string.Join("\n", notes.Steps.Select(executor.Show));
            executor.RecordPreview(notes);
            bed.Fault("datastoreFull=datastore1");
            try
            {
                failure = await Assert.ThrowsAsync<PlanFailedException>(() => executor.ExecuteAsync(notes, progress));
            }
            finally
            {
                bed.ClearFaults();
            }
        }
        finally
        {
            await executor.ExecuteAsync((await vms.PlanRemoveAsync("secret01", false)).Plan);
        }

        var log = File.ReadAllText(audit.Path);
        foreach (var secret in new[] { bed.Info.Password, token })
        {
            Assert.DoesNotContain(secret, log);
            Assert.DoesNotContain(secret, shown);
            Assert.DoesNotContain(secret, failure.Message);
            Assert.DoesNotContain(secret, failure.FailedStep);
            Assert.All(progress.Titles, t => Assert.DoesNotContain(secret, t));
        }

        Assert.Contains(Redactor.Mask, failure.Message);
        Assert.Contains("\"result\":\"failed\"", log);

        Assert.Equal(0, audit.Verify());
        Assert.Contains("\"result\":\"preview\"", log);
        Assert.Contains("\"result\":\"ok\"", log);
        Directory.Delete(home.Path, true);
    }

    [Fact]
    public async Task A_template_name_from_the_registry_stands_for_its_vm()
    {
        var home = new CesoHome(Directory.CreateTempSubdirectory("ceso-registry-").FullName);
        File.WriteAllText(Ceso.Engine.Configuration.CesoConfig.PathOf(home), "templates:\n  ubuntu-lts:\n    vm: vm01\n    description: golden image\n  gone:\n    vm: no-such-vm\n");
        await using var session = await bed.ConnectAsync(Transport.Ssh, home);
        var vms = new VmOperations(session, home);

        var (plan, _) = await vms.PlanCreateAsync(new CreateVmRequest { Name = "fromreg", Template = "ubuntu-lts" });
        Assert.Contains(plan.Steps, s => s.Command.Contains("/vm01/vm01.vmdk", StringComparison.Ordinal));
        Assert.Contains(plan.Notes, n => n.Contains("template 'ubuntu-lts' is VM 'vm01'", StringComparison.Ordinal));

        var e = await Assert.ThrowsAsync<CesoException>(() => vms.PlanCreateAsync(new CreateVmRequest { Name = "fromreg", Template = "gone" }));
        Assert.Equal("TemplateNotFound", e.ErrorId);
        Assert.Contains("no-such-vm", e.Message);
        Directory.Delete(home.Path, true);
    }

    private sealed class Collect<T> : IProgress<T>
    {
        public List<T> Items { get; } = [];

        public void Report(T value)
        {
            lock (Items)
            {
                Items.Add(value);
            }
        }
    }

    [Theory]
    [InlineData(Transport.Ssh)]
    [InlineData(Transport.Soap)]
    public async Task A_disk_copy_reports_its_percentage_under_its_step(Transport transport)
    {
        await using var ops = await OpenAsync(transport);
        var name = "progress-" + transport.ToString().ToLowerInvariant();
        var progress = new Collect<PlanProgress>();
        try
        {
            var (plan, _) = await ops.Vms.PlanCloneAsync(new CloneVmRequest { Source = "vm02", Name = name });
            await ops.Executor.ExecuteAsync(plan, progress);

            var copyStep = plan.Steps.Select((s, i) => (s, i)).Single(x => x.s.Title.StartsWith("Copy disk", StringComparison.Ordinal)).i + 1;
            Assert.Equal(Enumerable.Range(1, plan.Steps.Count), progress.Items.Where(p => p.StepPercent is null).Select(p => p.Step));
            var percents = progress.Items.Where(p => p.Step == copyStep && p.StepPercent is not null).Select(p => p.StepPercent!.Value).ToList();
            Assert.NotEmpty(percents);
            Assert.Equal(100, percents[^1]);
            Assert.Equal(percents.Order(), percents); // never goes backwards
        }
        finally
        {
            await RemoveAsync(ops, name);
        }
    }

    private static async Task<byte[]> ReadHeadAsync(string path)
    {
        var head = new byte[1048576];
        await using var f = File.OpenRead(path);
        await f.ReadExactlyAsync(head);
        return head;
    }

}

internal sealed class ProgressRecorder : IProgress<PlanProgress>
{
    public List<string> Titles { get; } = [];

    public void Report(PlanProgress value)
    {
        lock (Titles)
        {
            Titles.Add(value.Title);
        }
    }
}
