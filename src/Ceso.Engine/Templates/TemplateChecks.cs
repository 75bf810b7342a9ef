using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Ceso.Engine.Formats;
using Ceso.Engine.Model;
using Ceso.Engine.Shell;

namespace Ceso.Engine.Templates;

/// <summary>What the host checks are judged on, read from the host (inventory and the VM's .vmx) by <see cref="TemplateChecker"/>.</summary>
/// <param name="Vm">The template's VM as the inventory lists it.</param>
/// <param name="Vmx">Its .vmx as the host's files hold it: what every copy starts from.</param>
/// <param name="Networks">The host's portgroups.</param>
/// <param name="Datastores">The host's datastores.</param>
/// <param name="MissingDisks">The VM's disk descriptors that are not on the datastore.</param>
public sealed record TemplateFacts(CesoVm Vm, VmxFile Vmx, IReadOnlyList<CesoNetwork> Networks, IReadOnlyList<CesoDatastore> Datastores, IReadOnlyList<string> MissingDisks);

/// <summary>
/// The host checks of a template, judged from <see cref="TemplateFacts"/> alone (no I/O): one
/// <see cref="TemplateCheck"/> per <see cref="TemplateCheckName"/>, each failure naming the device, key or value and
/// the fix — a Ceso command where one exists, else the exact .vmx edit or vim-cmd call (docs/templates.md).
/// </summary>
public static partial class TemplateChecks
{
    /// <summary>Adapter types a copy's guest drives without extra drivers and that Ceso's network config matches by MAC.</summary>
    public static IReadOnlyList<string> GoodAdapters { get; } = ["vmxnet3", "e1000e"];

    /// <summary>Every check, in <see cref="TemplateCheckName.All"/> order.</summary>
    public static IReadOnlyList<TemplateCheck> Evaluate(TemplateFacts f) =>
        [PowerState(f), Snapshots(f), Disks(f), Space(f), CdRom(f), Nic(f), Firmware(f), GuestInfo(f), Tools(f)];

    private static TemplateCheck Pass(string name, string detail) => new() { Name = name, Level = TemplateCheckLevel.Passed, Detail = detail };

    private static TemplateCheck Warn(string name, string detail, string fix) => new() { Name = name, Level = TemplateCheckLevel.Warning, Detail = detail, Fix = fix };

    private static TemplateCheck Fail(string name, string detail, string fix) => new() { Name = name, Level = TemplateCheckLevel.Failed, Detail = detail, Fix = fix };

    // The VM as a Ceso command line argument: quoted for PowerShell when it needs it.
    private static string Ps(string name) => Regex.IsMatch(name, "^[A-Za-z0-9._-]+$") ? name : "'" + name.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static TemplateCheck PowerState(TemplateFacts f) => f.Vm.PowerState switch
    {
        CesoPowerState.PoweredOff => Pass(TemplateCheckName.PoweredOff, "powered off"),
        CesoPowerState.PoweredOn => Fail(TemplateCheckName.PoweredOff,
            $"'{f.Vm.Name}' is powered on: its disks are locked and change while it runs, so no consistent copy can be made",
            $"Stop-CesoVm {Ps(f.Vm.Name)}"),
        CesoPowerState.Suspended => Fail(TemplateCheckName.PoweredOff,
            $"'{f.Vm.Name}' is suspended: every copy would carry its memory state",
            $"Stop-CesoVm {Ps(f.Vm.Name)} (powers it off and discards the suspended state)"),
        _ => Fail(TemplateCheckName.PoweredOff, $"the host reports no power state for '{f.Vm.Name}'", $"vim-cmd vmsvc/power.getstate {f.Vm.Id} on the host shows what it is"),
    };

    private static TemplateCheck Snapshots(TemplateFacts f) => f.Vm.SnapshotCount switch
    {
        0 => Pass(TemplateCheckName.Snapshots, "no snapshots"),
        var n => Fail(TemplateCheckName.Snapshots,
            $"'{f.Vm.Name}' has {n} snapshot{(n == 1 ? "" : "s")}: its disks are delta chains, so a copy reads the chain instead of one base disk and the template can drift from what was tested",
            $"list them with vim-cmd vmsvc/snapshot.get {f.Vm.Id}, then remove each one you do not need with vim-cmd vmsvc/snapshot.remove {f.Vm.Id} <snapshotId> (merges it into the base disk)"),
    };

    private static TemplateCheck Disks(TemplateFacts f)
    {
        if (f.Vm.Disks.Count == 0)
        {
            return Fail(TemplateCheckName.Disks, $"'{f.Vm.Name}' has no virtual disk: a copy would have nothing to boot from",
                $"Set-CesoVm {Ps(f.Vm.Name)} -AddDiskGB 16, then install the guest");
        }

        if (f.MissingDisks.Count > 0)
        {
            return Fail(TemplateCheckName.Disks,
                $"the .vmx names {string.Join(", ", f.MissingDisks)}, which {(f.MissingDisks.Count == 1 ? "is" : "are")} not on the datastore: a copy would fail",
                $"put the disk back (Restore-CesoVm), or fix the disk's fileName line in {f.Vm.VmxPath} and run vim-cmd vmsvc/reload {f.Vm.Id}");
        }

        var detail = string.Join("; ", f.Vm.Disks.Select(d => d.ToString()));
        return Pass(TemplateCheckName.Disks, detail);
    }

    private static TemplateCheck Space(TemplateFacts f)
    {
        var parts = new List<string>();
        TemplateCheck? worst = null;
        foreach (var group in f.Vm.Disks.GroupBy(d => d.Datastore))
        {
            var need = group.Sum(d => d.CapacityBytes);
            if (f.Datastores.FirstOrDefault(d => d.Name == group.Key) is not { } ds)
            {
                continue;
            }

            var text = $"{group.Key}: {Gb(ds.FreeBytes)} free for a copy of up to {Gb(need)}";
            parts.Add(text);
            if (ds.FreeBytes < need)
            {
                // Ceso copies thin (vmkfstools -d thin), so a copy needs only the blocks in use at first; the host reads
                // do not tell those cheaply over both transports, so a copy that may not fit is a warning.
                worst = Warn(TemplateCheckName.Space,
                    $"{text}: a thin copy starts small but can grow to its full size, and {group.Key} could not hold it",
                    $"free space on {group.Key} (Remove-CesoVm unused VMs), or create copies elsewhere: New-CesoVm … -Datastore <other>");
            }
        }

        return worst ?? Pass(TemplateCheckName.Space, parts.Count == 0 ? "no disk to copy" : string.Join("; ", parts));
    }

    private static TemplateCheck CdRom(TemplateFacts f)
    {
        var connected = new List<string>();
        foreach (var (key, value) in f.Vmx.Entries)
        {
            if (!key.EndsWith(".deviceType", StringComparison.OrdinalIgnoreCase) || !value.Equals("cdrom-image", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var slot = key[..^".deviceType".Length];
            if (string.Equals(f.Vmx[slot + ".present"], "FALSE", StringComparison.OrdinalIgnoreCase)
                || string.Equals(f.Vmx[slot + ".startConnected"], "FALSE", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            connected.Add($"{slot} is connected to {f.Vmx[slot + ".fileName"] ?? "an ISO image"}");
        }

        return connected.Count == 0
            ? Pass(TemplateCheckName.CdRom, "no ISO image connected")
            : Fail(TemplateCheckName.CdRom,
                string.Join("; ", connected) + ": every copy would boot with it (and fail to power on where the ISO is not)",
                $"Set-CesoVm {Ps(f.Vm.Name)} -EjectIso");
    }

    private static TemplateCheck Nic(TemplateFacts f)
    {
        var nics = f.Vmx.NicIndexes();
        if (nics.Count == 0)
        {
            return Fail(TemplateCheckName.Nic, $"'{f.Vm.Name}' has no network adapter: a copy would get no network and cloud-init's static IP would have nothing to go on",
                $"Set-CesoVm {Ps(f.Vm.Name)} -AddNetwork '{Suggested(f)}'");
        }

        var known = f.Networks.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var problems = new List<(string Detail, string Fix)>();
        var good = new List<string>();
        for (var at = 0; at < nics.Count; at++)
        {
            var n = nics[at];
            var type = (f.Vmx[$"ethernet{n}.virtualDev"] ?? "e1000").ToLowerInvariant(); // hostd's default when the line is missing
            var network = f.Vmx[$"ethernet{n}.networkName"];
            var text = $"ethernet{n} {type} on '{network ?? "(none)"}'";
            if (network is null || !known.Contains(network))
            {
                problems.Add(($"{text}: the host has no portgroup '{network ?? ""}' (it has {string.Join(", ", known.Select(k => "'" + k + "'"))})",
                    $"Set-CesoVm {Ps(f.Vm.Name)} -NicIndex {at} -Network '{Suggested(f)}'"));
            }
            else if (!GoodAdapters.Contains(type))
            {
                problems.Add(($"{text}: {type} is not vmxnet3 or e1000e",
                    $"Set-CesoVm {Ps(f.Vm.Name)} -NicIndex {at} -AdapterType vmxnet3"));
            }
            else
            {
                good.Add(text);
            }
        }

        // The first adapter is the one cloud-init's network config is written for; any good adapter keeps the
        // copy reachable, but a broken one still fails the check: every copy would carry it.
        return problems.Count == 0
            ? Pass(TemplateCheckName.Nic, string.Join("; ", good))
            : Fail(TemplateCheckName.Nic, string.Join("; ", problems.Select(p => p.Detail)), string.Join("; ", problems.Select(p => p.Fix)));
    }

    // ESXi's default VM portgroup when the host has it, else the first one it lists.
    private static string Suggested(TemplateFacts f) =>
        f.Networks.FirstOrDefault(n => n.Name == "VM Network")?.Name ?? f.Networks.FirstOrDefault()?.Name ?? "VM Network";

    private static TemplateCheck Firmware(TemplateFacts f)
    {
        var firmware = (f.Vmx["firmware"] ?? "bios").ToLowerInvariant(); // no firmware line = BIOS, as hostd reads it
        var secureBoot = string.Equals(f.Vmx["uefi.secureBoot.enabled"], "TRUE", StringComparison.OrdinalIgnoreCase);
        if (secureBoot && firmware != "efi")
        {
            return Fail(TemplateCheckName.Firmware,
                $"Secure Boot is on (uefi.secureBoot.enabled = \"TRUE\") but the firmware is {firmware}: Secure Boot needs EFI, and hostd refuses the combination",
                $"Set-CesoVm {Ps(f.Vm.Name)} -SecureBoot $false (switching an installed guest to -Firmware Efi would leave it unbootable)");
        }

        return Pass(TemplateCheckName.Firmware, firmware + (firmware == "efi" ? secureBoot ? ", Secure Boot on" : ", Secure Boot off" : ""));
    }

    private static TemplateCheck GuestInfo(TemplateFacts f)
    {
        var stale = f.Vmx.Entries.Select(e => e.Key)
            .Where(k => Stale().IsMatch(k) || (k.StartsWith("guestinfo.", StringComparison.OrdinalIgnoreCase) && k.Contains("instance-id", StringComparison.OrdinalIgnoreCase)))
            .ToList();
        if (stale.Count == 0)
        {
            return Pass(TemplateCheckName.GuestInfo, "no guestinfo metadata, userdata, vendordata or instance-id");
        }

        var instanceId = InstanceId(f.Vmx) is { } id ? $" (instance-id '{id}')" : "";
        var vmfs = f.Vm.VmxPath is { } p ? DatastorePath.Parse(p).Vmfs : "<the .vmx>";
        var keys = string.Join("|", stale.Select(k => Regex.Escape(k).Replace("\\.", "[.]", StringComparison.Ordinal)));
        var edit = ShellCommandLine.Of("sed", "-E", "-i", $"/^({keys}) *=/d", vmfs).And("vim-cmd", "vmsvc/reload", f.Vm.Id);
        return Fail(TemplateCheckName.GuestInfo,
            $"the .vmx holds {string.Join(", ", stale)}{instanceId}: every copy would inherit them, and a copy that keeps the template's instance-id is not a new instance to cloud-init (it skips its per-instance setup)",
            $"on the host (SSH): {edit}; or delete those keys in the host client (Edit settings > VM Options > Advanced > Configuration parameters)");
    }

    private static TemplateCheck Tools(TemplateFacts f)
    {
        var vm = f.Vm;
        if (vm.ToolsVersion is { } version && vm.ToolsVersionStatus is not "NotInstalled")
        {
            var kind = vm.ToolsVersionStatus == "Unmanaged" ? "guest-managed tools (open-vm-tools)" : "VMware Tools";
            var status = vm.ToolsVersionStatus is null or "Unmanaged" ? "" : $", {vm.ToolsVersionStatus}";
            return Pass(TemplateCheckName.Tools, $"{kind} {version}{status} last reported by the guest");
        }

        // A host knows the tools only from a guest that ran them; a template that was never booted with them (or
        // whose record was reset) says nothing. That proves nothing either way, so it is a warning, not a failure.
        var said = vm.ToolsVersionStatus is "NotInstalled" ? "the host says not installed (it never saw them run in this guest)" : "not reported";
        return Warn(TemplateCheckName.Tools, $"VMware Tools: {said}; copies need open-vm-tools for cloud-init's VMware datasource and for their IP to show",
            "install open-vm-tools in the guest (apt install open-vm-tools), boot the template once so the host records the version, then shut it down");
    }

    private static string Gb(long bytes) => (bytes / 1073741824.0).ToString("0.#", CultureInfo.InvariantCulture) + " GB";

    /// <summary>The instance-id in the .vmx's guestinfo.metadata (plain, base64 or gzip+base64; JSON or YAML), or null.</summary>
    internal static string? InstanceId(VmxFile vmx)
    {
        if (vmx["guestinfo.metadata"] is not { Length: > 0 } raw)
        {
            return null;
        }

        string text;
        try
        {
            text = (vmx["guestinfo.metadata.encoding"] ?? "").ToLowerInvariant() switch
            {
                "base64" or "b64" => Encoding.UTF8.GetString(Convert.FromBase64String(raw)),
                "gzip+base64" or "gz+b64" => Gunzip(Convert.FromBase64String(raw)),
                _ => raw,
            };
        }
        catch (Exception e) when (e is FormatException or InvalidDataException)
        {
            return null;
        }

        return InstanceIdLine().Match(text) is { Success: true } m ? m.Groups[1].Value : null;
    }

    private static string Gunzip(byte[] bytes)
    {
        using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var reader = new StreamReader(gz, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"^guestinfo\.(metadata|userdata|vendordata)(\.encoding)?$", RegexOptions.IgnoreCase)]
    private static partial Regex Stale();

    [GeneratedRegex("""["']?(?:instance-id|instance_id)["']?\s*[:=]\s*["']?([^"',\s}]+)""")]
    private static partial Regex InstanceIdLine();
}
