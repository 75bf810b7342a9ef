namespace Ceso.Engine.Model;

/// <summary>
/// The levels of a template check, as the strings <see cref="TemplateCheck.Level"/> holds (strings, not an enum, so
/// ConvertTo-Json writes the name).
/// </summary>
public static class TemplateCheckLevel
{
    /// <summary>Nothing wrong.</summary>
    public const string Passed = "Passed";
    /// <summary>Worth knowing, but copies of the template still work: does not make the template not ready.</summary>
    public const string Warning = "Warning";
    /// <summary>Every copy would inherit the problem: the template is not ready.</summary>
    public const string Failed = "Failed";
}

/// <summary>The names of the host checks Test-CesoTemplate runs, in the order it reports them.</summary>
public static class TemplateCheckName
{
    /// <summary>The VM is powered off (its disks can be copied).</summary>
    public const string PoweredOff = "PoweredOff";
    /// <summary>No snapshots.</summary>
    public const string Snapshots = "Snapshots";
    /// <summary>Its disks are there (and thin or thick).</summary>
    public const string Disks = "Disks";
    /// <summary>Free space on the datastore for one more copy.</summary>
    public const string Space = "Space";
    /// <summary>No CD-ROM connected to an ISO image.</summary>
    public const string CdRom = "CdRom";
    /// <summary>A vmxnet3 or e1000e adapter on a portgroup the host has.</summary>
    public const string Nic = "Nic";
    /// <summary>Firmware and Secure Boot agree.</summary>
    public const string Firmware = "Firmware";
    /// <summary>No guestinfo metadata/userdata/vendordata or instance-id every copy would inherit.</summary>
    public const string GuestInfo = "GuestInfo";
    /// <summary>What VMware Tools last reported.</summary>
    public const string Tools = "Tools";

    /// <summary>Every check, in report order.</summary>
    public static IReadOnlyList<string> All { get; } = [PoweredOff, Snapshots, Disks, Space, CdRom, Nic, Firmware, GuestInfo, Tools];

    /// <summary>Guest check (-Boot): the probe copy booted and wrote its report to the serial port.</summary>
    public const string ProbeReport = "ProbeReport";

    /// <summary>Guest check: cloud-init is installed (its version and status).</summary>
    public const string CloudInit = "CloudInit";

    /// <summary>Guest check: cloud-init chose the VMware datasource (guestinfo).</summary>
    public const string Datasource = "Datasource";

    /// <summary>Guest check: open-vm-tools is installed (its version).</summary>
    public const string OpenVmTools = "OpenVmTools";

    /// <summary>Guest check: the hostname from guestinfo was applied.</summary>
    public const string Hostname = "Hostname";

    /// <summary>Guest check: the static address from guestinfo's network config was applied.</summary>
    public const string StaticIP = "StaticIP";

    /// <summary>Guest check: the SSH key from guestinfo's user-data was installed.</summary>
    public const string SshKey = "SshKey";

    /// <summary>The guest checks of -Boot, in order.</summary>
    public static IReadOnlyList<string> Guest { get; } = [ProbeReport, CloudInit, Datasource, OpenVmTools, Hostname, StaticIP, SshKey];
}

/// <summary>One check of a template: what was found and, when something is wrong, the exact fix.</summary>
public sealed record TemplateCheck
{
    /// <summary>The check (<see cref="TemplateCheckName"/>).</summary>
    public required string Name { get; init; }

    /// <summary>Passed, Warning or Failed (<see cref="TemplateCheckLevel"/>).</summary>
    public required string Level { get; init; }

    /// <summary>True unless the check failed (a warning passes).</summary>
    public bool Passed => Level != TemplateCheckLevel.Failed;

    /// <summary>What was found, naming the device, key or value.</summary>
    public required string Detail { get; init; }

    /// <summary>The command or edit that fixes it; null when nothing needs fixing.</summary>
    public string? Fix { get; init; }

    /// <summary>✓ passed, ! warning, ✗ failed.</summary>
    public string Symbol => Level switch
    {
        TemplateCheckLevel.Failed => "✗",
        TemplateCheckLevel.Warning => "!",
        _ => "✓",
    };

    /// <summary><c>✗ CdRom: sata0:0 is connected to [datastore1] iso/x.iso (fix: Set-CesoVm tpl -EjectIso)</c>.</summary>
    public override string ToString() => $"{Symbol} {Name}: {Detail}" + (Fix is null ? "" : $" (fix: {Fix})");
}

/// <summary>The result of Test-CesoTemplate for one template: whether copies of it would come out right.</summary>
public sealed record TemplateReport
{
    /// <summary>The name tested: a registry name or the VM's name.</summary>
    public required string Name { get; init; }

    /// <summary>The template's VM.</summary>
    public required string Vm { get; init; }

    /// <summary>The VM's id (vmid).</summary>
    public required string VmId { get; init; }

    /// <summary>The server (connection) checked.</summary>
    public required string Server { get; init; }

    /// <summary>The registry name, when the template is registered in config.yaml (its last result is recorded there).</summary>
    public string? Registered { get; init; }

    /// <summary>True when no check failed (warnings do not count).</summary>
    public bool IsReady => Checks.All(c => c.Passed);

    /// <summary>The checks, in <see cref="TemplateCheckName.All"/> order.</summary>
    public IReadOnlyList<TemplateCheck> Checks { get; init; } = [];

    /// <summary>The names of the failed checks.</summary>
    public IReadOnlyList<string> Failed => Checks.Where(c => !c.Passed).Select(c => c.Name).ToList();

    /// <summary>When it was checked (UTC).</summary>
    public DateTimeOffset CheckedAt { get; init; }

    /// <summary>The one-line result recorded in the registry: <c>Ready</c> or <c>NotReady: Snapshots, CdRom</c>.</summary>
    public string Summary => IsReady ? "Ready" : "NotReady: " + string.Join(", ", Failed);

    /// <summary>The guest checks (-Boot) as one word: NotChecked (no -Boot), Passed, or Failed.</summary>
    public string GuestResult => Checks.Where(c => TemplateCheckName.Guest.Contains(c.Name)).ToList() switch
    {
        { Count: 0 } => "NotChecked",
        var g when g.All(c => c.Passed) => TemplateCheckLevel.Passed,
        _ => TemplateCheckLevel.Failed,
    };

    /// <summary>The symbol (✓ ! ✗) of one check, for the table view; "?" when it did not run.</summary>
    public string SymbolOf(string check) => Checks.FirstOrDefault(c => c.Name == check)?.Symbol ?? "?";
}

/// <summary>A template in the registry ($CESO_HOME/config.yaml <c>templates:</c>), as Get-CesoTemplate shows it.</summary>
public sealed record CesoTemplate
{
    /// <summary>The registry name (what New-CesoVm -Template takes).</summary>
    public required string Name { get; init; }

    /// <summary>The VM it stands for.</summary>
    public required string Vm { get; init; }

    /// <summary>The server it is on; null = any server.</summary>
    public string? Server { get; init; }

    /// <summary>What it is.</summary>
    public string? Description { get; init; }

    /// <summary>Default vCPUs of a VM made from it; null = the VM's.</summary>
    public int? NumCpu { get; init; }

    /// <summary>Default memory in MiB; null = the VM's.</summary>
    public long? MemoryMB { get; init; }

    /// <summary>Default first-disk size in GiB; null = the VM's.</summary>
    public int? DiskGB { get; init; }

    /// <summary>Default portgroup of the first adapter; null = the VM's.</summary>
    public string? Network { get; init; }

    /// <summary>The last Test-CesoTemplate result (<c>Ready</c>, <c>NotReady: …</c>), or null when never tested.</summary>
    public string? LastResult { get; init; }

    /// <summary>When it was last tested, or null.</summary>
    public DateTimeOffset? LastChecked { get; init; }
}
