using Ceso.Engine.Formats;
using Ceso.Engine.Model;
using Ceso.Engine.Templates;

namespace Ceso.Tests.Engine;

/// <summary>The guest checks of -Boot judged from serial-port text alone (the integration tests boot real images).</summary>
public sealed class GuestChecksTests
{
    private static BootProbeRun Run(string? serial) =>
        new("tpl", "tpl-ceso-probe-0a1b2c3d", new DatastorePath("datastore1", "tpl-ceso-probe-0a1b2c3d/tpl-ceso-probe-0a1b2c3d.serial.log"),
            "ceso-probe-0a1b2c3d", "192.0.2.10/24", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG5vYm9keQ== ceso-probe") { SerialText = serial };

    private const string Good = """
        {"probe":1,"cloudInitPath":"/usr/bin/cloud-init","cloudInitVersion":"/usr/bin/cloud-init 24.4.1","cloudInitVersionSource":"cloud-init --version",
         "cloudInitStatus":"status: running;","cloudInitStatusSource":"cloud-init status --long","datasource":"vmware","datasourceSource":"cloud-id",
         "datasourceListFiles":["/etc/cloud/cloud.cfg.d/90_dpkg.cfg: datasource_list: [ VMware, None ]"],"vmtoolsdPath":"/usr/bin/vmtoolsd",
         "vmtoolsVersion":"VMware Tools daemon, version 12.4.5.23787 (build-23787635)","vmtoolsVersionSource":"vmtoolsd -v","rpctoolPath":"/usr/bin/vmware-rpctool",
         "hostname":"ceso-probe-0a1b2c3d","ipFoundIn":"interface","keyFoundIn":"/home/ubuntu/.ssh/authorized_keys"}
        """;

    [Fact]
    public void A_report_among_console_lines_passes_every_check_with_what_the_guest_said()
    {
        var serial = "[    0.000000] Linux version 6.8.0\nCloud-init v. 24.4.1 running 'modules:final'\n" + GuestChecks.Marker + Good.ReplaceLineEndings("") + "\n[  OK  ] Reached target Power-Off.\n";

        var checks = Run(serial).Checks();

        Assert.Equal(TemplateCheckName.Guest, checks.Select(c => c.Name));
        Assert.All(checks, c => Assert.True(c.Passed, c.ToString()));
        Assert.Contains("24.4.1 (cloud-init --version)", checks[1].Detail, StringComparison.Ordinal);
        Assert.Equal("192.0.2.10/24 configured on an interface", checks.Single(c => c.Name == TemplateCheckName.StaticIP).Detail);
    }

    [Fact]
    public void A_guest_that_powered_off_without_a_report_fails_ProbeReport_quoting_the_last_line()
    {
        var checks = Run("[    1.2] reboot: Power down\n").Checks();

        var only = Assert.Single(checks);
        Assert.Equal(TemplateCheckName.ProbeReport, only.Name);
        Assert.False(only.Passed);
        Assert.Contains("last line '[    1.2] reboot: Power down'", only.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_datasource_list_without_VMware_names_the_file_and_the_line_and_the_dependent_checks_say_so()
    {
        var report = Good.ReplaceLineEndings("")
            .Replace("\"datasource\":\"vmware\"", "\"datasource\":\"DataSourceNone\"", StringComparison.Ordinal)
            .Replace("90_dpkg.cfg: datasource_list: [ VMware, None ]", "99-local.cfg: datasource_list: [ NoCloud, None ]", StringComparison.Ordinal)
            .Replace("\"hostname\":\"ceso-probe-0a1b2c3d\"", "\"hostname\":\"golden\"", StringComparison.Ordinal);

        var checks = Run(GuestChecks.Marker + report).Checks();

        var ds = checks.Single(c => c.Name == TemplateCheckName.Datasource);
        Assert.False(ds.Passed);
        Assert.Contains("/etc/cloud/cloud.cfg.d/99-local.cfg sets 'datasource_list: [ NoCloud, None ]'", ds.Detail, StringComparison.Ordinal);
        Assert.Contains("'datasource_list: [ VMware, None ]'", ds.Fix, StringComparison.Ordinal);
        var host = checks.Single(c => c.Name == TemplateCheckName.Hostname);
        Assert.Equal("follows from Datasource: fix that first", host.Fix);
    }

    [Fact]
    public void The_probe_cloud_config_carries_what_the_guest_must_show_and_the_embedded_script()
    {
        var config = BootProbe.ProbeCloudConfig(Run(null));

        Assert.StartsWith("#cloud-config\nruncmd:\n  - [\"/bin/sh\",\"-c\",\"want_host=ceso-probe-0a1b2c3d\\nwant_ip=192.0.2.10\\n", config, StringComparison.Ordinal);
        Assert.Contains("AAAAC3NzaC1lZDI1NTE5AAAAIG5vYm9keQ==", config, StringComparison.Ordinal);
        Assert.Contains("CESO-PROBE-REPORT", BootProbe.Script, StringComparison.Ordinal);
    }
}
