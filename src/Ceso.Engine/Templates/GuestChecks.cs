using System.Text.Json;
using System.Text.RegularExpressions;
using Ceso.Engine.Model;

namespace Ceso.Engine.Templates;

/// <summary>
/// The guest checks of Test-CesoTemplate -Boot, judged from the report the probe wrote to the serial port
/// (BootProbe.sh: one line <c>CESO-PROBE-REPORT {json}</c>). Each failure names what the guest showed and the fix
/// inside the template (docs/templates.md). Checks that depend on an earlier one say so instead of guessing.
/// </summary>
public static partial class GuestChecks
{
    /// <summary>The marker of the report line.</summary>
    public const string Marker = "CESO-PROBE-REPORT ";

    /// <summary>What the probe reported (field names as BootProbe.sh writes them).</summary>
    public sealed record Report
    {
        /// <summary>Path of the cloud-init command, empty when there is none.</summary>
        public string CloudInitPath { get; init; } = "";

        /// <summary>cloud-init's version.</summary>
        public string CloudInitVersion { get; init; } = "";

        /// <summary>Where the version came from (cloud-init --version or dpkg status).</summary>
        public string CloudInitVersionSource { get; init; } = "";

        /// <summary>cloud-init's status.</summary>
        public string CloudInitStatus { get; init; } = "";

        /// <summary>Where the status came from.</summary>
        public string CloudInitStatusSource { get; init; } = "";

        /// <summary>The datasource cloud-init chose.</summary>
        public string Datasource { get; init; } = "";

        /// <summary>Where the datasource came from (cloud-id, result.json, instance-data.json).</summary>
        public string DatasourceSource { get; init; } = "";

        /// <summary>"file: line" of every cloud-init config file that sets datasource_list, in the order cloud-init reads them.</summary>
        public IReadOnlyList<string> DatasourceListFiles { get; init; } = [];

        /// <summary>Path of vmtoolsd, empty when there is none.</summary>
        public string VmtoolsdPath { get; init; } = "";

        /// <summary>open-vm-tools' version.</summary>
        public string VmtoolsVersion { get; init; } = "";

        /// <summary>Where that version came from.</summary>
        public string VmtoolsVersionSource { get; init; } = "";

        /// <summary>Path of vmware-rpctool (what cloud-init reads guestinfo with).</summary>
        public string RpctoolPath { get; init; } = "";

        /// <summary>The guest's hostname.</summary>
        public string Hostname { get; init; } = "";

        /// <summary>Where the static address was found: "interface" or a config file; empty = nowhere.</summary>
        public string IpFoundIn { get; init; } = "";

        /// <summary>The authorized_keys file holding the probe's key; empty = none.</summary>
        public string KeyFoundIn { get; init; } = "";
    }

    private static readonly JsonSerializerOptions Json = new() { PropertyNameCaseInsensitive = true };

    /// <summary>The report in a serial log (the last report line), or null when there is none.</summary>
    public static Report? Parse(string? serial)
    {
        var line = serial?.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith(Marker, StringComparison.Ordinal));
        if (line is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<Report>(line[Marker.Length..], Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Every guest check of a finished probe run, in <see cref="TemplateCheckName.Guest"/> order.</summary>
    public static IReadOnlyList<TemplateCheck> Evaluate(BootProbeRun run)
    {
        var r = Parse(run.SerialText);
        if (r is null)
        {
            var last = run.SerialText?.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
            return
            [
                Fail(TemplateCheckName.ProbeReport,
                    $"the copy '{run.ProbeVm}' powered off without a report in {run.SerialFile} ({(last is null ? "the file is empty" : $"last line '{Shorten(last)}'")}): the guest did not run the probe's cloud-config",
                    "boot the template itself and read /var/log/cloud-init.log; check that cloud-init and open-vm-tools are installed and that nothing powers the guest off early"),
            ];
        }

        var ci = CloudInit(r);
        var ds = Datasource(r, ci.Passed);
        var tools = Tools(r);
        var dsOk = ci.Passed && ds.Passed;
        return
        [
            Pass(TemplateCheckName.ProbeReport, $"the copy '{run.ProbeVm}' booted, reported to its serial port and powered off"),
            ci,
            ds,
            tools,
            r.Hostname == run.Hostname
                ? Pass(TemplateCheckName.Hostname, $"hostname '{r.Hostname}' from guestinfo applied")
                : Fail(TemplateCheckName.Hostname, $"the guest's hostname is '{r.Hostname}', not '{run.Hostname}' from guestinfo",
                    dsOk ? "in the template, remove 'preserve_hostname: true' from /etc/cloud/cloud.cfg and /etc/cloud/cloud.cfg.d/*.cfg" : Follows(ci.Passed)),
            r.IpFoundIn.Length > 0
                ? Pass(TemplateCheckName.StaticIP, r.IpFoundIn == "interface" ? $"{run.IPAddress} configured on an interface" : $"{run.IPAddress} configured in {r.IpFoundIn}")
                : Fail(TemplateCheckName.StaticIP, $"the static address {run.IPAddress} from guestinfo's network config was applied nowhere (no interface has it, no network config file names it)",
                    dsOk ? "in the template, remove 'network: {config: disabled}' from /etc/cloud/cloud.cfg.d/*.cfg (cloud-init then renders guestinfo's network config)" : Follows(ci.Passed)),
            r.KeyFoundIn.Length > 0
                ? Pass(TemplateCheckName.SshKey, $"the SSH key from guestinfo is in {r.KeyFoundIn}")
                : Fail(TemplateCheckName.SshKey, "the SSH key from guestinfo's user-data is in no authorized_keys file (/root/.ssh, /home/*/.ssh)",
                    dsOk ? "in the template, keep cloud-init's ssh module enabled (cloud_init_modules in /etc/cloud/cloud.cfg lists ssh) and a default user in system_info" : Follows(ci.Passed)),
        ];
    }

    private static TemplateCheck CloudInit(Report r)
    {
        if (r.CloudInitPath.Length == 0 && r.CloudInitVersion.Length == 0)
        {
            return Fail(TemplateCheckName.CloudInit, "cloud-init is not installed in the guest (no cloud-init command, no dpkg entry): copies get no IP, hostname or keys",
                "in the template: apt install cloud-init, then cloud-init clean --logs and shut it down");
        }

        var status = r.CloudInitStatus.Length == 0 ? "" : $"; status {r.CloudInitStatus.Trim().TrimEnd(';')} ({r.CloudInitStatusSource})";
        return Pass(TemplateCheckName.CloudInit, $"cloud-init {(r.CloudInitVersion.Length == 0 ? "(version unknown)" : r.CloudInitVersion)} ({r.CloudInitVersionSource}){status}");
    }

    private static TemplateCheck Datasource(Report r, bool cloudInit)
    {
        if (!cloudInit)
        {
            return Fail(TemplateCheckName.Datasource, "no datasource: cloud-init is not installed", "install cloud-init first (see CloudInit)");
        }

        if (r.Datasource.Contains("vmware", StringComparison.OrdinalIgnoreCase))
        {
            return Pass(TemplateCheckName.Datasource, $"cloud-init chose {r.Datasource} ({r.DatasourceSource})");
        }

        var chosen = r.Datasource.Length == 0 ? "no datasource" : r.Datasource;
        // The last file that sets datasource_list wins; name it when its list lacks VMware.
        if (r.DatasourceListFiles.LastOrDefault() is { } last && !last.Contains("VMware", StringComparison.Ordinal))
        {
            var file = last.Split(": ", 2)[0];
            var line = last.Split(": ", 2).ElementAtOrDefault(1) ?? "";
            return Fail(TemplateCheckName.Datasource,
                $"cloud-init chose {chosen}, not VMware: {file} sets '{line.Trim()}', which leaves the VMware datasource out, so copies never read their guestinfo",
                $"in the template, change that line in {file} to 'datasource_list: [ VMware, None ]' (or delete the file), then cloud-init clean --logs");
        }

        if (r.RpctoolPath.Length == 0)
        {
            return Fail(TemplateCheckName.Datasource,
                $"cloud-init chose {chosen}, not VMware: the VMware datasource reads guestinfo with vmware-rpctool, which is missing (open-vm-tools)",
                "in the template: apt install open-vm-tools");
        }

        return Fail(TemplateCheckName.Datasource, $"cloud-init chose {chosen}, not VMware",
            "in the template, add /etc/cloud/cloud.cfg.d/99-vmware.cfg with the line 'datasource_list: [ VMware, None ]', then cloud-init clean --logs");
    }

    private static TemplateCheck Tools(Report r) =>
        r.VmtoolsdPath.Length == 0 && r.VmtoolsVersion.Length == 0
            ? Fail(TemplateCheckName.OpenVmTools,
                "open-vm-tools is not installed in the guest (no vmtoolsd, no dpkg entry): the host sees no IP address or tools, Stop-CesoVm cannot shut it down cleanly, and cloud-init's VMware datasource cannot read guestinfo",
                "in the template: apt install open-vm-tools")
            : Pass(TemplateCheckName.OpenVmTools, $"open-vm-tools {(r.VmtoolsVersion.Length == 0 ? "(version unknown)" : r.VmtoolsVersion)} ({r.VmtoolsVersionSource})");

    private static string Follows(bool cloudInit) => cloudInit ? "follows from Datasource: fix that first" : "follows from CloudInit: install cloud-init first";

    private static TemplateCheck Pass(string name, string detail) => new() { Name = name, Level = TemplateCheckLevel.Passed, Detail = detail };

    private static TemplateCheck Fail(string name, string detail, string fix) => new() { Name = name, Level = TemplateCheckLevel.Failed, Detail = detail, Fix = fix };

    private static string Shorten(string s) => s.Length > 120 ? s[..120] + "…" : s;
}
