using System.Text;
using Ceso.Engine;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Shell;
using Ceso.Engine.Templates;

namespace Ceso.Tests.Integration;

/// <summary>
/// A test bed of its own with one template per guest image of testbed/guest/make-image.sh (Debian's real cloud-init,
/// open-vm-tools and busybox files in an ext4 disk), made as an admin would: vmkfstools -i of vm01's disk, the image
/// written over the copy's flat file, the .vmx written into the datastore, vim-cmd solo/registervm.
/// </summary>
public sealed class BootTestBed : TestBed, IAsyncLifetime
{
    /// <summary>Template names by image variant.</summary>
    public static readonly IReadOnlyDictionary<string, string> Templates = new Dictionary<string, string>
    {
        ["good"] = "tpl-boot-good",
        ["no-cloud-init"] = "tpl-boot-nocloudinit",
        ["ds-disabled"] = "tpl-boot-dsoff",
        ["no-tools"] = "tpl-boot-notools",
    };

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var made = Run(Path.Combine(RepoRoot, "testbed", "guest", "make-image.sh"), [.. Templates.Keys]);
        Assert.True(made.Code == 0, "testbed/guest/make-image.sh failed: " + made.Output);
        var images = made.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', 2)).ToDictionary(p => p[0], p => p[1].Trim());
        await using var ssh = await ConnectAsync(Transport.Ssh);
        var ds = Info.Datastores[0];
        foreach (var (variant, name) in Templates)
        {
            var folder = $"/vmfs/volumes/{ds.Name}/{name}";
            var copy = ShellCommandLine.Of("mkdir", "-p", folder).And("vmkfstools", "-i", $"/vmfs/volumes/{ds.Name}/vm01/vm01.vmdk", "-d", "thin", $"{folder}/{name}.vmdk");
            (await ssh.Ssh!.RunAsync(copy.ToString())).EnsureSuccess("test bed");
            (await ssh.Ssh.RunAsync(ShellQuote.Join("cp", "--sparse=always", images[variant], $"{folder}/{name}-flat.vmdk"))).EnsureSuccess("test bed");
            var vmx = VmxFile.Parse(File.ReadAllText(Path.Combine(ds.LocalDir, "vm01", "vm01.vmx")));
            vmx.Set("displayName", name);
            vmx.Set("nvram", name + ".nvram");
            vmx.Set("scsi0:0.fileName", name + ".vmdk");
            vmx.Set("annotation", "boot template " + variant);
            vmx.Remove("uuid.bios");
            vmx.Remove("ethernet0.generatedAddress");
            File.WriteAllText(Path.Combine(ds.LocalDir, name, name + ".vmx"), vmx.ToString(), new UTF8Encoding(false));
            (await ssh.Ssh.RunAsync(ShellQuote.Join("vim-cmd", "solo/registervm", $"{folder}/{name}.vmx", name))).EnsureSuccess("test bed");
        }
    }
}

[CollectionDefinition(Name)]
public sealed class BootTestBedCollection : ICollectionFixture<BootTestBed>
{
    public const string Name = "TestBed boot templates";
}

/// <summary>Test-CesoTemplate -Boot's engine: the probe plan against the simulated guests, and what it leaves (nothing).</summary>
[Collection(BootTestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TemplateBootProbeTests(BootTestBed bed)
{
    public static TheoryData<Transport> Transports => [Transport.Soap, Transport.Ssh];

    private static readonly BootProbeRequest Fast = new() { PollInterval = TimeSpan.FromMilliseconds(500), Timeout = TimeSpan.FromSeconds(60) };

    private async Task<(IReadOnlyList<TemplateCheck> Checks, BootProbeRun Run, PlanResult Result)> ProbeAsync(Transport transport, string template, BootProbeRequest? request = null, CancellationToken ct = default)
    {
        var (session, _, executor) = await bed.OpenOperationsAsync(transport);
        await using (session)
        {
            var report = await new TemplateChecker(session, bed.Home).CheckAsync(template, ct);
            var (plan, run) = await new BootProbe(session, bed.Home).PlanAsync(report, request ?? Fast, ct);
            var result = await executor.ExecuteAsync(plan, null, ct);
            return (run.Checks(), run, result);
        }
    }

    // Neither the VM (in the inventory) nor its folder (on the datastore) is left; a fragment matches any probe.
    private async Task AssertGoneAsync(string probe)
    {
        var ds = bed.Info.Datastores[0];
        Assert.DoesNotContain(Directory.EnumerateDirectories(ds.LocalDir), d => Path.GetFileName(d).Contains(probe, StringComparison.Ordinal));
        await using var session = await bed.ConnectAsync(Transport.Soap);
        Assert.DoesNotContain(await session.Inventory.GetVmsAsync(), v => v.Name.Contains(probe, StringComparison.Ordinal));
    }

    private async Task<int> VmCountAsync()
    {
        await using var session = await bed.ConnectAsync(Transport.Soap);
        return (await session.Inventory.GetVmsAsync()).Count;
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task The_good_template_boots_and_passes_every_guest_check_and_the_copy_is_gone(Transport transport)
    {
        var before = await VmCountAsync();
        var (checks, run, result) = await ProbeAsync(transport, BootTestBed.Templates["good"]);

        Assert.Equal(TemplateCheckName.Guest, checks.Select(c => c.Name));
        Assert.All(checks, c => Assert.True(c.Level == TemplateCheckLevel.Passed, c.ToString()));
        Assert.Contains("cloud-init 22.4.2", checks.Single(c => c.Name == TemplateCheckName.CloudInit).Detail, StringComparison.Ordinal);
        Assert.Contains("DataSourceVMware", checks.Single(c => c.Name == TemplateCheckName.Datasource).Detail, StringComparison.Ordinal);
        Assert.Contains("open-vm-tools 2:12.2.0", checks.Single(c => c.Name == TemplateCheckName.OpenVmTools).Detail, StringComparison.Ordinal);
        Assert.Matches("^tpl-boot-good-ceso-probe-[0-9a-f]{8}$", run.ProbeVm);
        Assert.Empty(result.Warnings);
        await AssertGoneAsync(run.ProbeVm);
        Assert.Equal(before, await VmCountAsync());
    }

    public static TheoryData<string, string, string, string> Broken => new()
    {
        { "no-cloud-init", TemplateCheckName.CloudInit, "cloud-init is not installed", "apt install cloud-init" },
        { "ds-disabled", TemplateCheckName.Datasource, "/etc/cloud/cloud.cfg.d/95-datasources.cfg sets 'datasource_list: [ NoCloud, ConfigDrive, OpenStack, None ]'", "datasource_list: [ VMware, None ]" },
        { "no-tools", TemplateCheckName.OpenVmTools, "open-vm-tools is not installed", "apt install open-vm-tools" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public async Task Each_broken_image_fails_its_check_with_the_finding_and_the_fix(string variant, string check, string finding, string fix)
    {
        var (checks, run, _) = await ProbeAsync(Transport.Ssh, BootTestBed.Templates[variant]);

        var failed = checks.Single(c => c.Name == check);
        Assert.Equal(TemplateCheckLevel.Failed, failed.Level);
        Assert.Contains(finding, failed.Detail, StringComparison.Ordinal);
        Assert.Contains(fix, failed.Fix, StringComparison.Ordinal);
        // without the VMware datasource nothing from guestinfo is applied, and the checks say why
        Assert.Equal(TemplateCheckLevel.Failed, checks.Single(c => c.Name == TemplateCheckName.StaticIP).Level);
        Assert.Contains("follows from", checks.Single(c => c.Name == TemplateCheckName.SshKey).Fix, StringComparison.Ordinal);
        await AssertGoneAsync(run.ProbeVm);
    }

    [Fact]
    public async Task Without_open_vm_tools_the_datasource_check_names_the_missing_rpctool()
    {
        var (checks, _, _) = await ProbeAsync(Transport.Soap, BootTestBed.Templates["no-tools"]);

        var ds = checks.Single(c => c.Name == TemplateCheckName.Datasource);
        Assert.Equal(TemplateCheckLevel.Failed, ds.Level);
        Assert.Contains("vmware-rpctool", ds.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_guest_that_never_reports_times_out_naming_what_was_seen_and_the_copy_is_removed(Transport transport)
    {
        bed.Fault("guestHang=on");
        try
        {
            var e = await Assert.ThrowsAsync<PlanFailedException>(() => ProbeAsync(transport, BootTestBed.Templates["good"],
                Fast with { Timeout = TimeSpan.FromSeconds(4) }));

            Assert.Equal("BootProbeTimeout", e.ErrorId);
            Assert.Contains("last seen poweredOn", e.Message, StringComparison.OrdinalIgnoreCase);
            Assert.Contains(".serial.log empty", e.Message, StringComparison.Ordinal);
            Assert.Empty(e.Left);
            await AssertGoneAsync("-ceso-probe-");
        }
        finally
        {
            bed.ClearFaults();
        }
    }

    [Fact]
    public async Task Cancelling_while_the_guest_boots_removes_the_copy()
    {
        bed.Fault("guestHang=on");
        try
        {
            // Cancelled once the plan waits for the hung guest, not on a clock: on a loaded machine a fixed delay ran
            // out while the plan was still being made (a clean-clone run saw OperationCanceledException from planning).
            var (session, _, executor) = await bed.OpenOperationsAsync(Transport.Ssh);
            PlanFailedException e;
            await using (session)
            {
                var report = await new TemplateChecker(session, bed.Home).CheckAsync(BootTestBed.Templates["good"]);
                var (plan, _) = await new BootProbe(session, bed.Home).PlanAsync(report, Fast, CancellationToken.None);
                using var cts = new CancellationTokenSource();
                var progress = new Progress<PlanProgress>(p =>
                {
                    if (p.Title.StartsWith("Wait for the report", StringComparison.Ordinal))
                    {
                        cts.CancelAfter(TimeSpan.FromSeconds(1));
                    }
                });
                e = await Assert.ThrowsAsync<PlanFailedException>(() => executor.ExecuteAsync(plan, progress, cts.Token));
            }

            Assert.Equal("OperationCancelled", e.ErrorId);
            Assert.Empty(e.Left);
            await AssertGoneAsync("-ceso-probe-");
        }
        finally
        {
            bed.ClearFaults();
        }
    }

    [Fact]
    public async Task A_powered_on_template_is_not_booted()
    {
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var report = await new TemplateChecker(session, bed.Home).CheckAsync(BootTestBed.Templates["good"]);
        var on = report with { Checks = report.Checks.Select(c => c.Name == TemplateCheckName.PoweredOff ? c with { Level = TemplateCheckLevel.Failed } : c).ToList() };

        var e = await Assert.ThrowsAsync<CesoException>(() => new BootProbe(session, bed.Home).PlanAsync(on, Fast));

        Assert.Equal("TemplateNotBootable", e.ErrorId);
        Assert.Contains("PoweredOff", e.Message, StringComparison.Ordinal);
    }
}
