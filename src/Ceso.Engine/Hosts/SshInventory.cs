using System.Globalization;
using System.Text.RegularExpressions;
using Ceso.Engine.Model;
using Ceso.Engine.Shell;
using Ceso.Engine.Ssh;
using Ceso.Engine.Vmodl;

namespace Ceso.Engine.Hosts;

/// <summary>
/// Inventory over SSH with vim-cmd and esxcli, for hosts whose API is unreachable or when -Transport Ssh is asked
/// for. It reads the same vSphere objects the API returns (vim-cmd prints them as VMODL text), so the one
/// <see cref="InventoryMapper"/> gives the same result as <see cref="SoapInventory"/>.
/// </summary>
public sealed partial class SshInventory(string server, SshSession ssh) : IHostInventory
{
    private bool? _python;

    /// <inheritdoc />
    public Transport Transport => Transport.Ssh;

    /// <inheritdoc />
    public async Task<CesoHost> GetHostAsync(CancellationToken ct = default)
    {
        var summaryText = await RunAsync(ct, "vim-cmd", "hostsvc/hostsummary").ConfigureAwait(false);
        var summary = Read("vim-cmd hostsvc/hostsummary", () => VmodlTextParser.Parse(summaryText));
        var license = await RunAsync(ct, "vim-cmd", "vimsvc/license", "--show").ConfigureAwait(false);
        var host = InventoryMapper.Host(server, summary, LicenseName(license));
        if (host.Version.Length == 0 || host.Build.Length == 0)
        {
            // hostd left config.product out of the summary: esxcli reads the same release from the host's image.
            var text = await RunAsync(ct, "esxcli", "system", "version", "get").ConfigureAwait(false);
            var v = Read("esxcli system version get", () => EsxcliVersion.Parse(text));
            host = host with { Product = v.Product, Version = host.Version.Length > 0 ? host.Version : v.Version, Build = host.Build.Length > 0 ? host.Build : v.Build };
        }

        return host;
    }

    /// <summary>The license name from <c>vim-cmd vimsvc/license --show</c> ("name: Evaluation Mode").</summary>
    internal static string? LicenseName(string text) =>
        text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("name:", StringComparison.Ordinal))?[5..].Trim() is { Length: > 0 } n ? n : null;

    /// <inheritdoc />
    public async Task<IReadOnlyList<CesoDatastore>> GetDatastoresAsync(CancellationToken ct = default)
    {
        var text = await RunAsync(ct, "esxcli", "storage", "filesystem", "list").ConfigureAwait(false);
        return Read("esxcli storage filesystem list", () => Datastores(server, text));
    }

    /// <summary>The datastores in <c>esxcli storage filesystem list</c>: every mounted row but the host's system volumes.</summary>
    internal static IReadOnlyList<CesoDatastore> Datastores(string server, string text) => EsxcliTable.Parse(text)
        .Where(r => r.GetValueOrDefault("Volume Name") is { Length: > 0 } && !IsSystemVolume(r.GetValueOrDefault("Type", "")))
        .Select(r => new CesoDatastore
        {
            Server = server,
            Name = r["Volume Name"],
            Type = InventoryMapper.DatastoreType(r.GetValueOrDefault("Type", "")),
            CapacityBytes = long.Parse(r.GetValueOrDefault("Size", "0"), CultureInfo.InvariantCulture),
            FreeBytes = long.Parse(r.GetValueOrDefault("Free", "0"), CultureInfo.InvariantCulture),
            Url = InventoryMapper.DatastoreUrl(r.GetValueOrDefault("Mount Point", "")),
        })
        .OrderBy(d => d.Name, StringComparer.Ordinal)
        .ToList();

    /// <summary>
    /// Filesystems esxcli lists that are the host's own and never datastores in the API: the bootbanks and other
    /// FAT partitions (<c>vfat</c>) and, from ESXi 7.0 on, the ESX-OSData volume (<c>OSDATA-&lt;uuid&gt;</c>, a VMFS-L
    /// volume that esxcli shows as type <c>VMFSOS</c>; "ESXi System Storage" in the ESXi 7.0/8.0 installation guides).
    /// Decided by filesystem type, not by release, so later releases need no change.
    /// </summary>
    internal static bool IsSystemVolume(string type) =>
        type.StartsWith("vfat", StringComparison.OrdinalIgnoreCase)
        || type.Equals("VMFSOS", StringComparison.OrdinalIgnoreCase)
        || type.Equals("VMFS-L", StringComparison.OrdinalIgnoreCase)
        || type.Equals("VMFSL", StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public async Task<IReadOnlyList<CesoNetwork>> GetNetworksAsync(CancellationToken ct = default)
    {
        var text = await RunAsync(ct, "esxcli", "network", "vswitch", "standard", "portgroup", "list").ConfigureAwait(false);
        return Read("esxcli network vswitch standard portgroup list", () => EsxcliTable.Parse(text)
            .Select(r => new CesoNetwork
            {
                Server = server,
                Name = r["Name"],
                VirtualSwitch = r.GetValueOrDefault("Virtual Switch", ""),
                VlanId = int.Parse(r.GetValueOrDefault("VLAN ID", "0"), CultureInfo.InvariantCulture),
            })
            .OrderBy(n => n.Name, StringComparer.Ordinal)
            .ToList());
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<CesoFirewallRuleset>> GetFirewallAsync(CancellationToken ct = default)
    {
        var rulesets = await RunAsync(ct, "esxcli", "network", "firewall", "ruleset", "list").ConfigureAwait(false);
        var allowed = await RunAsync(ct, "esxcli", "network", "firewall", "ruleset", "allowedip", "list").ConfigureAwait(false);
        return Read("esxcli network firewall ruleset allowedip list", () => HostFirewall.FromEsxcli(server, rulesets, allowed));
    }

    /// <inheritdoc />
    /// <remarks>Two commands on the shell whatever the number of VMs: getallvms, then every VM's reads in one round
    /// trip (<see cref="SshVmReads"/>).</remarks>
    public async Task<IReadOnlyList<CesoVm>> GetVmsAsync(CancellationToken ct = default)
    {
        if (OneCallPerCommand)
        {
            return await GetVmsOneCallPerCommandAsync(ct).ConfigureAwait(false);
        }

        var ids = VmIds(await RunAsync(ct, "vim-cmd", "vmsvc/getallvms").ConfigureAwait(false));
        var reads = ids.Count == 0 ? new Dictionary<string, IReadOnlyList<SshResult>>() : await ReadVmsAsync(ids, ct).ConfigureAwait(false);
        return await Vms(ids, id => Task.FromResult(Vm(id, reads[id]))).ConfigureAwait(false);
    }

    /// <summary>For the benchmark's "before" figures only: discovery as it was before the batched reads.</summary>
    internal bool OneCallPerCommand { get; set; }

    /// <summary>
    /// Discovery as it was before <see cref="SshVmReads"/>: one shell command per vim-cmd call (4 per VM). Kept for
    /// the benchmark and for tests that check the batched path gives the same objects.
    /// </summary>
    internal async Task<IReadOnlyList<CesoVm>> GetVmsOneCallPerCommandAsync(CancellationToken ct = default)
    {
        var ids = VmIds(await RunAsync(ct, "vim-cmd", "vmsvc/getallvms").ConfigureAwait(false));
        return await Vms(ids, async id =>
        {
            var results = new List<SshResult>(SshVmReads.Verbs.Count);
            foreach (var verb in SshVmReads.Verbs)
            {
                // Run in turn and judged at once, as before: the first failing verb ends this VM's reads.
                var r = await ssh.RunAsync(ShellQuote.Join("vim-cmd", verb, id), ct).ConfigureAwait(false);
                results.Add(r.EnsureSuccess(server));
            }

            return Vm(id, results);
        }).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<CesoVm>> Vms(IReadOnlyList<string> ids, Func<string, Task<CesoVm>> read)
    {
        var vms = new List<CesoVm>(ids.Count);
        foreach (var id in ids)
        {
            try
            {
                vms.Add(await read(id).ConfigureAwait(false));
            }
            catch (RemoteCommandException e) when (e.Stderr.Contains("vim.fault.NotFound", StringComparison.Ordinal))
            {
                // Unregistered since getallvms ran, or a line of someone's annotation that looked like a row.
            }
        }

        return vms.OrderBy(v => v.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>One VM by vmid: its configuration, summary, guest and snapshot dumps (one command on the shell).</summary>
    public async Task<CesoVm> GetVmAsync(string id, CancellationToken ct = default) =>
        Vm(id, (await ReadVmsAsync([id], ct).ConfigureAwait(false))[id]);

    /// <inheritdoc />
    public async Task<CesoVm?> GetVmByIdAsync(string id, CancellationToken ct = default)
    {
        if (OneCallPerCommand)
        {
            return (await GetVmsAsync(ct).ConfigureAwait(false)).FirstOrDefault(v => v.Id == id);
        }

        try
        {
            return await GetVmAsync(id, ct).ConfigureAwait(false);
        }
        catch (RemoteCommandException e) when (e.Stderr.Contains("vim.fault.NotFound", StringComparison.Ordinal))
        {
            return null; // unregistered, as a VM gone from the listing is skipped
        }
    }

    /// <summary>
    /// Every VM's <see cref="SshVmReads.Verbs"/> in one round trip: the Python helper unless this session found the
    /// host's python unusable, else (and whenever the helper's stream is incomplete) the plain shell loop. Reads have no
    /// effect on the host, so running them again through the loop is safe.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, IReadOnlyList<SshResult>>> ReadVmsAsync(IReadOnlyList<string> ids, CancellationToken ct)
    {
        IReadOnlyDictionary<string, IReadOnlyList<SshResult>> reads;
        string why;
        if (_python != false)
        {
            var marker = SshVmReads.NewMarker();
            var py = await ssh.RunAsync(SshVmReads.PythonCommand(marker, ids), ct).ConfigureAwait(false);
            if (SshVmReads.TryParse(py.Stdout, marker, ids, out reads, out why))
            {
                _python = true;
                return reads;
            }

            // No frame at all: python is missing (127), refused (126) or not Python 3; this session stops asking it.
            // A stream cut short once it ran is retried through the loop this time only.
            if (!py.Stdout.Contains(marker, StringComparison.Ordinal) && _python is null)
            {
                _python = false;
            }
        }

        var m = SshVmReads.NewMarker();
        var sh = await ssh.RunAsync(SshVmReads.ShellCommand(m, ids), ct).ConfigureAwait(false);
        if (SshVmReads.TryParse(sh.Stdout, m, ids, out reads, out why))
        {
            return reads;
        }

        const string shown = "vim-cmd vmsvc/get.config|get.summary|get.guest|get.snapshotinfo (batched)";
        throw new CesoException("UnreadableHostOutput", CesoErrorKind.HostError,
            $"Ceso cannot read the batched VM reads on {server}: {why} (exit code {sh.ExitCode}{(sh.Stderr.Trim().Length > 0 ? ": " + sh.Stderr.Trim() : "")}). Retry; if it persists, use the API (-Transport Soap).")
        { Host = server, Command = shown };
    }

    /// <summary>
    /// Whether this session uses the host's python for batched reads: null until the first batch, false once python
    /// printed nothing (missing, refused, or not Python 3).
    /// </summary>
    internal bool? UsesPython => _python;

    /// <summary>A VM from the results of its <see cref="SshVmReads.Verbs"/>, judged in order as the per-VM path did.</summary>
    private CesoVm Vm(string id, IReadOnlyList<SshResult> results)
    {
        VmodlNode Dump(int i)
        {
            var text = results[i].EnsureSuccess(server).Stdout;
            return text.Trim().Length == 0 ? VmodlNode.Unset : Read($"vim-cmd {SshVmReads.Verbs[i]} {id}", () => VmodlTextParser.Parse(text));
        }

        var config = Dump(0);
        var summary = Dump(1);
        var guest = Dump(2);
        var snapshot = Dump(3);
        return InventoryMapper.Vm(server, id, path => path switch
        {
            "name" => config.Get("name"),
            "snapshot" => snapshot,
            _ when path.StartsWith("config.", StringComparison.Ordinal) => config.Get(path["config.".Length..]),
            _ when path.StartsWith("runtime.", StringComparison.Ordinal) => summary.Get(path),
            _ when path.StartsWith("guest.", StringComparison.Ordinal) => guest.Get(path["guest.".Length..]),
            _ => null,
        });
    }

    /// <summary>
    /// The vmids in <c>vim-cmd vmsvc/getallvms</c>, and nothing else from it: names, paths and notes come from
    /// get.config. Real output is loose: the header ("Vmid Name File Guest OS Version Annotation") does not line up with
    /// the rows, cells are padded with trailing blanks, names hold spaces and an annotation continues on the next
    /// lines. So no column is taken by position; a row is a line that starts with a numeric vmid (hostd's ids are
    /// numbers) followed by a name and a "[datastore] path.vmx". Ids are returned once each, in order.
    /// </summary>
    internal static IReadOnlyList<string> VmIds(string text) =>
        text.Replace("\r", "", StringComparison.Ordinal).Split('\n').Skip(1).Select(l => RowPattern().Match(l)).Where(m => m.Success)
            .Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal).ToList();

    [GeneratedRegex(@"^(\d+)\s+\S.*?\s\[[^\]]+\]\s.*?\.vmx(\s|$)")]
    private static partial Regex RowPattern();

    private async Task<string> RunAsync(CancellationToken ct, string program, params string[] args)
    {
        var r = await ssh.RunAsync(ShellQuote.Join(program, args), ct).ConfigureAwait(false);
        return r.EnsureSuccess(server).Stdout;
    }

    /// <summary>Output the parsers cannot read is an error naming the command, not a crash of the caller.</summary>
    private T Read<T>(string command, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (Exception e) when (e is FormatException or OverflowException or KeyNotFoundException)
        {
            throw new CesoException("UnreadableHostOutput", CesoErrorKind.HostError,
                $"Ceso cannot read what '{command}' printed on {server} ({e.Message}). The host's tools may print a format Ceso does not know; use the API (-Transport Soap) meanwhile.", e)
            { Host = server, Command = command };
        }
    }
}
