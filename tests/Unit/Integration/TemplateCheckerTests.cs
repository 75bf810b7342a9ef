using System.Text;
using Ceso.Engine;
using Ceso.Engine.Configuration;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Shell;
using Ceso.Engine.Templates;

namespace Ceso.Tests.Integration;

/// <summary>
/// A test bed of its own (the variants add VMs, which other classes' VM counts must not see) holding a good template
/// and one broken variant per host check, each set up through the test bed's own ways in: vmkfstools and
/// solo/registervm over SSH, a .vmx written into the datastore, vim-cmd for snapshots and power, and vcsim's
/// SET.guest.* keys over the API for what VMware Tools report.
/// </summary>
public sealed class TemplateTestBed : TestBed, IAsyncLifetime
{
    /// <summary>The variants by name: what was done to each (tests look them up by name).</summary>
    public const string Good = "tpl-good", Iso = "tpl-iso", Snapshot = "tpl-snap", Stale = "tpl-stale", On = "tpl-on",
        NoNic = "tpl-nonic", UnknownNet = "tpl-badnet", SecureBootBios = "tpl-sbbios";

    /// <summary>The instance-id left in tpl-stale's guestinfo.metadata.</summary>
    public const string StaleInstanceId = "i-template-0001";

    /// <summary>vmids of the variants.</summary>
    public Dictionary<string, string> Ids { get; } = [];

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await using var ssh = await ConnectAsync(Transport.Ssh);
        await using var soap = await ConnectAsync(Transport.Soap);
        var ds = Info.Datastores[0];

        async Task<string> Make(string name, Action<VmxFile>? edit = null)
        {
            var folder = $"/vmfs/volumes/{ds.Name}/{name}";
            var copy = ShellCommandLine.Of("mkdir", "-p", folder).And("vmkfstools", "-i", $"/vmfs/volumes/{ds.Name}/vm01/vm01.vmdk", "-d", "thin", $"{folder}/{name}.vmdk");
            (await ssh.Ssh!.RunAsync(copy.ToString())).EnsureSuccess("test bed");
            var vmx = VmxFile.Parse(File.ReadAllText(Path.Combine(ds.LocalDir, "vm01", "vm01.vmx")));
            vmx.Set("displayName", name);
            vmx.Set("nvram", name + ".nvram");
            vmx.Set("scsi0:0.fileName", name + ".vmdk");
            vmx.Set("annotation", "template variant " + name);
            vmx.Remove("uuid.bios");
            vmx.Remove("ethernet0.generatedAddress");
            edit?.Invoke(vmx);
            File.WriteAllText(Path.Combine(ds.LocalDir, name, name + ".vmx"), vmx.ToString(), new UTF8Encoding(false));
            var id = (await ssh.Ssh.RunAsync(ShellQuote.Join("vim-cmd", "solo/registervm", $"{folder}/{name}.vmx", name))).EnsureSuccess("test bed").Stdout.Trim();
            Ids[name] = id;
            return id;
        }

        async Task Vim(params string[] args) => (await ssh.Ssh!.RunAsync(ShellQuote.Join("vim-cmd", args))).EnsureSuccess("test bed");

        // Good: clean, and open-vm-tools reported 12.3.5 as guest-managed tools (what a real host shows for them).
        var good = await Make(Good);
        await BehindCesosBack.SetExtraConfigAsync(soap, good, ("SET.guest.toolsVersion", "12389"), ("SET.guest.toolsVersionStatus2", "guestToolsUnmanaged"));

        await Make(Iso, v =>
        {
            v.Set("sata0.present", "TRUE");
            v.Set("sata0:0.present", "TRUE");
            v.Set("sata0:0.deviceType", "cdrom-image");
            v.Set("sata0:0.fileName", $"/vmfs/volumes/{ds.Name}/iso/ubuntu-24.04-live-server-amd64.iso");
            v.Set("sata0:0.startConnected", "TRUE");
        });

        var snap = await Make(Snapshot);
        await Vim("vmsvc/snapshot.create", snap, "before-cleanup", "left by the image build", "0", "0");

        await Make(Stale, v =>
        {
            v.Set("guestinfo.metadata", Convert.ToBase64String(Encoding.UTF8.GetBytes($$"""{"instance-id": "{{StaleInstanceId}}", "local-hostname": "golden"}""")));
            v.Set("guestinfo.metadata.encoding", "base64");
            v.Set("guestinfo.userdata", Convert.ToBase64String(Encoding.UTF8.GetBytes("#cloud-config\npassword: build\n")));
            v.Set("guestinfo.userdata.encoding", "base64");
        });

        var on = await Make(On);
        await Vim("vmsvc/power.on", on);

        await Make(NoNic, v => v.RemoveWhere(k => k.StartsWith("ethernet0.", StringComparison.OrdinalIgnoreCase)));

        // A portgroup the host does not have cannot be registered on the test bed (it refuses what vcsim cannot
        // model), so the .vmx is changed after registering: what a host shows when the portgroup was removed or renamed.
        await Make(UnknownNet);
        var badVmx = Path.Combine(ds.LocalDir, UnknownNet, UnknownNet + ".vmx");
        File.WriteAllText(badVmx, File.ReadAllText(badVmx).Replace("ethernet0.networkName = \"VM Network\"", "ethernet0.networkName = \"Build Network\"", StringComparison.Ordinal));

        await Make(SecureBootBios, v =>
        {
            v.Set("firmware", "bios");
            v.Set("uefi.secureBoot.enabled", "TRUE");
        });
    }
}

[CollectionDefinition(Name)]
public sealed class TemplateTestBedCollection : ICollectionFixture<TemplateTestBed>
{
    public const string Name = "TestBed templates";
}

/// <summary>Test-CesoTemplate's host checks against the good template and each broken variant, over both transports.</summary>
[Collection(TemplateTestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TemplateCheckerTests(TemplateTestBed bed)
{
    public static TheoryData<Transport> Transports => [Transport.Soap, Transport.Ssh];

    private async Task<TemplateReport> CheckAsync(Transport transport, string name)
    {
        await using var session = await bed.ConnectAsync(transport);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await new TemplateChecker(session, bed.Home).CheckAsync(name, cts.Token);
    }

    private static TemplateCheck Only(TemplateReport report, string failed)
    {
        Assert.False(report.IsReady);
        Assert.Equal([failed], report.Failed);
        return report.Checks.Single(c => c.Name == failed);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task The_good_template_passes_every_check_and_shows_open_vm_tools_as_guest_managed_with_their_version(Transport transport)
    {
        var report = await CheckAsync(transport, TemplateTestBed.Good);

        Assert.True(report.IsReady, string.Join("\n", report.Checks));
        Assert.Equal(TemplateCheckName.All, report.Checks.Select(c => c.Name));
        Assert.All(report.Checks, c => Assert.Equal(TemplateCheckLevel.Passed, c.Level));
        Assert.All(report.Checks, c => Assert.Null(c.Fix));
        Assert.Equal("guest-managed tools (open-vm-tools) 12.3.5 last reported by the guest", report.Checks.Single(c => c.Name == "Tools").Detail);
        Assert.Contains("thin", report.Checks.Single(c => c.Name == "Disks").Detail);
        Assert.Equal("efi, Secure Boot off", report.Checks.Single(c => c.Name == "Firmware").Detail);
        Assert.Equal(bed.Ids[TemplateTestBed.Good], report.VmId);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task An_iso_left_connected_fails_the_cdrom_check_naming_the_iso_and_set_cesovm_ejectiso(Transport transport)
    {
        var check = Only(await CheckAsync(transport, TemplateTestBed.Iso), "CdRom");
        Assert.Contains("sata0:0 is connected to /vmfs/volumes/datastore1/iso/ubuntu-24.04-live-server-amd64.iso", check.Detail);
        Assert.Equal("Set-CesoVm tpl-iso -EjectIso", check.Fix);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_snapshot_fails_the_snapshot_check_and_the_fix_removes_snapshots_one_by_one_never_all(Transport transport)
    {
        var check = Only(await CheckAsync(transport, TemplateTestBed.Snapshot), "Snapshots");
        var id = bed.Ids[TemplateTestBed.Snapshot];
        Assert.Contains("has 1 snapshot:", check.Detail);
        Assert.Contains($"vim-cmd vmsvc/snapshot.get {id}", check.Fix);
        Assert.Contains($"vim-cmd vmsvc/snapshot.remove {id} <snapshotId>", check.Fix);
        Assert.DoesNotContain("removeall", check.Fix);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Stale_guestinfo_fails_naming_the_keys_and_instance_id_and_the_fix_is_the_exact_vmx_edit_and_reload(Transport transport)
    {
        var check = Only(await CheckAsync(transport, TemplateTestBed.Stale), "GuestInfo");
        Assert.Contains("guestinfo.metadata, guestinfo.metadata.encoding, guestinfo.userdata, guestinfo.userdata.encoding", check.Detail);
        Assert.Contains($"instance-id '{TemplateTestBed.StaleInstanceId}'", check.Detail);
        var id = bed.Ids[TemplateTestBed.Stale];
        Assert.Contains($"sed -E -i '/^(guestinfo[.]metadata|guestinfo[.]metadata[.]encoding|guestinfo[.]userdata|guestinfo[.]userdata[.]encoding) *=/d' /vmfs/volumes/datastore1/tpl-stale/tpl-stale.vmx && vim-cmd vmsvc/reload {id}", check.Fix);
    }

    [Fact]
    public async Task The_stale_guestinfo_fix_run_on_the_host_makes_the_check_pass()
    {
        // The fix is a command a user pastes; run it on a VM of its own and check again.
        await using var ssh = await bed.ConnectAsync(Transport.Ssh);
        var ds = bed.Info.Datastores[0];
        var name = "tpl-stale-fixed";
        var folder = $"/vmfs/volumes/{ds.Name}/{name}";
        (await ssh.Ssh!.RunAsync(ShellCommandLine.Of("mkdir", "-p", folder).And("vmkfstools", "-i", $"/vmfs/volumes/{ds.Name}/{TemplateTestBed.Stale}/{TemplateTestBed.Stale}.vmdk", "-d", "thin", $"{folder}/{name}.vmdk").ToString())).EnsureSuccess("test bed");
        var vmx = File.ReadAllText(Path.Combine(ds.LocalDir, TemplateTestBed.Stale, TemplateTestBed.Stale + ".vmx")).Replace(TemplateTestBed.Stale, name, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(ds.LocalDir, name, name + ".vmx"), vmx);
        (await ssh.Ssh.RunAsync(ShellQuote.Join("vim-cmd", "solo/registervm", $"{folder}/{name}.vmx", name))).EnsureSuccess("test bed");

        var before = Only(await CheckAsync(Transport.Ssh, name), "GuestInfo");
        var command = before.Fix!["on the host (SSH): ".Length..before.Fix!.IndexOf("; or delete", StringComparison.Ordinal)];
        (await ssh.Ssh.RunAsync(command)).EnsureSuccess("test bed");

        var after = await CheckAsync(Transport.Ssh, name);
        Assert.True(after.IsReady, string.Join("\n", after.Checks));
        Assert.DoesNotContain("guestinfo.userdata", File.ReadAllText(Path.Combine(ds.LocalDir, name, name + ".vmx")));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_powered_on_template_fails_with_stop_cesovm_as_the_fix(Transport transport)
    {
        var check = Only(await CheckAsync(transport, TemplateTestBed.On), "PoweredOff");
        Assert.Contains("'tpl-on' is powered on", check.Detail);
        Assert.Equal("Stop-CesoVm tpl-on", check.Fix);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_template_without_a_nic_fails_with_add_network_as_the_fix(Transport transport)
    {
        var check = Only(await CheckAsync(transport, TemplateTestBed.NoNic), "Nic");
        Assert.Contains("has no network adapter", check.Detail);
        Assert.Equal("Set-CesoVm tpl-nonic -AddNetwork 'VM Network'", check.Fix);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_nic_on_a_portgroup_the_host_lacks_fails_naming_it_and_the_portgroups_there_are(Transport transport)
    {
        var check = Only(await CheckAsync(transport, TemplateTestBed.UnknownNet), "Nic");
        Assert.Contains("ethernet0 vmxnet3 on 'Build Network': the host has no portgroup 'Build Network'", check.Detail);
        Assert.Contains("'VM Network'", check.Detail[check.Detail.IndexOf("(it has", StringComparison.Ordinal)..]);
        Assert.Equal("Set-CesoVm tpl-badnet -NicIndex 0 -Network 'VM Network'", check.Fix);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Secure_boot_on_bios_firmware_fails_with_secureboot_off_as_the_fix(Transport transport)
    {
        var check = Only(await CheckAsync(transport, TemplateTestBed.SecureBootBios), "Firmware");
        Assert.Contains("Secure Boot is on (uefi.secureBoot.enabled = \"TRUE\") but the firmware is bios", check.Detail);
        Assert.StartsWith("Set-CesoVm tpl-sbbios -SecureBoot $false", check.Fix);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Tools_the_host_never_heard_of_are_a_warning_that_does_not_make_the_template_not_ready(Transport transport)
    {
        // tpl-nonic's guest never reported tools; its only failure is the NIC.
        var report = await CheckAsync(transport, TemplateTestBed.NoNic);
        var tools = report.Checks.Single(c => c.Name == "Tools");
        Assert.Equal(TemplateCheckLevel.Warning, tools.Level);
        Assert.True(tools.Passed);
        Assert.Equal("!", tools.Symbol);
        Assert.Contains("not reported", tools.Detail);
        Assert.Contains("open-vm-tools", tools.Fix);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_name_that_is_neither_registered_nor_a_vm_cannot_be_checked_and_is_an_error(Transport transport)
    {
        var e = await Assert.ThrowsAsync<CesoException>(() => CheckAsync(transport, "no-such-template"));
        Assert.Equal("TemplateNotFound", e.ErrorId);
        Assert.Equal(CesoErrorKind.NotFound, e.Kind);
    }

    [Fact]
    public async Task A_registered_template_is_checked_through_its_vm_and_the_result_and_time_are_recorded_in_config_yaml()
    {
        var home = new Ceso.Engine.Connection.CesoHome(Directory.CreateTempSubdirectory("ceso-tpl-home-").FullName);
        try
        {
            File.WriteAllText(CesoConfig.PathOf(home), "# lab\ntemplates:\n  golden: { vm: tpl-good, description: \"the good one\" }\n  broken:\n    vm: tpl-iso # left an ISO in\n");
            await using var session = await bed.ConnectAsync(Transport.Soap, home);
            var checker = new TemplateChecker(session, home);

            var golden = await checker.CheckAsync("golden");
            var broken = await checker.CheckAsync("tpl-iso"); // by VM name: the one entry that stands for it records it
            checker.Record(golden);
            checker.Record(broken);

            Assert.Equal(("golden", "tpl-good", true), (golden.Registered, golden.Vm, golden.IsReady));
            Assert.Equal("broken", broken.Registered);
            var config = CesoConfig.Load(home);
            Assert.Equal("Ready", config.Templates["golden"].LastResult);
            Assert.Equal("the good one", config.Templates["golden"].Description);
            Assert.Equal("NotReady: CdRom", config.Templates["broken"].LastResult);
            var listed = TemplateRegistry.List(home).Single(t => t.Name == "broken");
            Assert.InRange(listed.LastChecked!.Value, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
            Assert.Contains("    vm: tpl-iso # left an ISO in\n", File.ReadAllText(CesoConfig.PathOf(home)));
            Assert.StartsWith("# lab\ntemplates:\n", File.ReadAllText(CesoConfig.PathOf(home)));
        }
        finally
        {
            Directory.Delete(home.Path, true);
        }
    }

    [Fact]
    public async Task A_registry_entry_whose_vm_is_gone_cannot_be_checked()
    {
        var home = new Ceso.Engine.Connection.CesoHome(Directory.CreateTempSubdirectory("ceso-tpl-home-").FullName);
        try
        {
            File.WriteAllText(CesoConfig.PathOf(home), "templates:\n  old:\n    vm: tpl-deleted-long-ago\n");
            await using var session = await bed.ConnectAsync(Transport.Ssh, home);
            var e = await Assert.ThrowsAsync<CesoException>(() => new TemplateChecker(session, home).CheckAsync("old"));
            Assert.Equal("TemplateNotFound", e.ErrorId);
            Assert.Contains("'tpl-deleted-long-ago'", e.Message);
        }
        finally
        {
            Directory.Delete(home.Path, true);
        }
    }

    [Fact]
    public async Task New_vm_from_a_registered_template_takes_the_registry_defaults_unless_a_parameter_is_given_and_says_so()
    {
        var home = new Ceso.Engine.Connection.CesoHome(Directory.CreateTempSubdirectory("ceso-tpl-home-").FullName);
        try
        {
            TemplateRegistry.Register(home, "golden", new TemplateEntry { Vm = TemplateTestBed.Good, NumCpu = 4, MemoryMB = 3072, Network = "Lab Network" });
            await using var session = await bed.ConnectAsync(Transport.Soap, home);
            var ops = new Ceso.Engine.Operations.VmOperations(session, home);

            var (plan, _) = await ops.PlanCreateAsync(new Ceso.Engine.Operations.CreateVmRequest { Name = "web-defaults", Template = "golden", NumCpu = 1 });

            var vmx = VmxFile.Parse(plan.Steps.Single(s => s.Payload is not null).Payload!);
            Assert.Equal(("1", "3072", "Lab Network"), (vmx["numvcpus"], vmx["memSize"], vmx["ethernet0.networkName"]));
            var note = Assert.Single(plan.Notes, n => n.StartsWith("from the template registry", StringComparison.Ordinal));
            Assert.Contains("template 'golden'): 3072 MB memory, network 'Lab Network'; a parameter given overrides them", note);
            Assert.DoesNotContain("vCPU", note); // -NumCpu was given
            Assert.Contains(note, plan.Steps.Single(s => s.Payload is not null).Notes);
        }
        finally
        {
            Directory.Delete(home.Path, true);
        }
    }

    [Fact]
    public async Task The_checks_only_read_the_host()
    {
        var mark = bed.Calls().Count;
        await CheckAsync(Transport.Soap, TemplateTestBed.Good);
        await CheckAsync(Transport.Ssh, TemplateTestBed.Stale);
        Assert.DoesNotContain(bed.CallsSince(mark), c => c.Write && !c.Internal);
    }
}
