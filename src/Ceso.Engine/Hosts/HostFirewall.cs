using System.Net;
using System.Net.Sockets;
using Ceso.Engine.Model;
using Ceso.Engine.Shell;
using Ceso.Engine.Vmodl;

namespace Ceso.Engine.Hosts;

/// <summary>
/// The host firewall's allowlists: reading them from the API's <c>config.firewall</c> or <c>esxcli network firewall
/// ruleset allowedip list</c>, the changes over both transports (UpdateRuleset; esxcli allowedip add / set
/// --allowed-all / allowedip remove, in the order that never shuts out more than asked), and the address checks.
/// </summary>
public static class HostFirewall
{
    /// <summary>The rulesets of Ceso's own connections: SSH and the API.</summary>
    public static readonly IReadOnlyList<string> ControlRulesets = ["sshServer", "vSphereClient"];

    /// <summary>An address ("10.0.0.5") or network ("10.0.0.0/24") normalized, or a <c>FirewallAddressInvalid</c> error.</summary>
    public static string Normalize(string entry)
    {
        var text = entry.Trim();
        if (text.Contains('/'))
        {
            // Only a network named by its base address: 10.0.0.5/24 is refused rather than silently widened.
            if (IPNetwork.TryParse(text, out var network) && IPAddress.TryParse(text[..text.IndexOf('/')], out var given) && network.BaseAddress.Equals(given))
            {
                return network.ToString();
            }
        }
        else if (IPAddress.TryParse(text, out var address))
        {
            return address.ToString();
        }

        throw new CesoException("FirewallAddressInvalid", CesoErrorKind.InvalidArgument,
            $"'{entry}' is neither an IP address (10.0.0.5, fd00::5) nor a network in CIDR form with its base address (10.0.0.0/24).") { Target = entry };
    }

    /// <summary>Whether <paramref name="address"/> is one of <paramref name="entries"/> or inside one of its networks.</summary>
    public static bool Allows(IEnumerable<string> entries, IPAddress address)
    {
        var a = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        foreach (var e in entries)
        {
            if (e.Contains('/') ? IPNetwork.TryParse(e, out var n) && n.Contains(a) : IPAddress.TryParse(e, out var ip) && ip.Equals(a))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The address this machine uses towards <paramref name="host"/> (no packet is sent: a UDP socket's route choice).</summary>
    public static IPAddress? LocalAddressTowards(string host, int port)
    {
        try
        {
            var target = IPAddress.TryParse(host, out var ip) ? ip : Dns.GetHostAddresses(host).FirstOrDefault();
            if (target is null) return null;
            using var s = new Socket(target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            s.Connect(target, port);
            return (s.LocalEndPoint as IPEndPoint)?.Address;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>Rulesets from the API's <c>config.firewall</c> (HostFirewallInfo); allowlists in ordinal order, as from esxcli.</summary>
    public static IReadOnlyList<CesoFirewallRuleset> FromVmodl(string server, VmodlNode? firewall) =>
        (firewall?.Get("ruleset")?.AsList() ?? [])
        .Select(r => new CesoFirewallRuleset
        {
            Server = server,
            Name = r.String("key") ?? "",
            Enabled = r.Bool("enabled") ?? false,
            AllowedAll = r.Bool("allowedHosts.allIp") ?? true,
            AllowedIPAddresses = (r.Get("allowedHosts.ipAddress")?.AsList() ?? []).Select(a => a.Scalar ?? "").Where(a => a.Length > 0)
                .Concat((r.Get("allowedHosts.ipNetwork")?.AsList() ?? []).Select(n => $"{n.String("network")}/{n.Long("prefixLength")}"))
                .Order(StringComparer.Ordinal).ToList(),
        })
        .OrderBy(r => r.Name, StringComparer.Ordinal)
        .ToList();

    /// <summary>Rulesets from <c>esxcli network firewall ruleset list</c> and <c>… allowedip list</c>.</summary>
    public static IReadOnlyList<CesoFirewallRuleset> FromEsxcli(string server, string rulesetList, string allowedList)
    {
        var enabled = EsxcliTable.Parse(rulesetList).ToDictionary(r => r["Name"], r => r.GetValueOrDefault("Enabled", "false") == "true", StringComparer.Ordinal);
        return EsxcliTable.Parse(allowedList)
            .Select(r =>
            {
                var allowed = r.GetValueOrDefault("Allowed IP Addresses", "All").Trim();
                return new CesoFirewallRuleset
                {
                    Server = server,
                    Name = r["Ruleset"],
                    Enabled = enabled.GetValueOrDefault(r["Ruleset"]),
                    AllowedAll = allowed == "All",
                    AllowedIPAddresses = allowed == "All" ? [] : [.. allowed.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal)],
                };
            })
            .OrderBy(r => r.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// The esxcli commands that turn <paramref name="from"/> into the wanted state, one line joined by <c>&amp;&amp;</c>:
    /// first the new entries, then allowed-all, then removals, so no moment allows fewer than both states allow.
    /// </summary>
    public static string EsxcliChange(CesoFirewallRuleset from, bool allowAll, IReadOnlyList<string> entries)
    {
        var id = "--ruleset-id=" + from.Name;
        var lines = new List<string>();
        foreach (var e in entries.Where(e => !from.AllowedIPAddresses.Contains(e, StringComparer.OrdinalIgnoreCase)))
        {
            lines.Add(ShellQuote.Join("esxcli", ["network", "firewall", "ruleset", "allowedip", "add", id, "--ip-address=" + e]));
        }

        if (allowAll != from.AllowedAll)
        {
            lines.Add(ShellQuote.Join("esxcli", ["network", "firewall", "ruleset", "set", id, "--allowed-all=" + (allowAll ? "true" : "false")]));
        }

        foreach (var e in from.AllowedIPAddresses.Where(e => !entries.Contains(e, StringComparer.OrdinalIgnoreCase)))
        {
            lines.Add(ShellQuote.Join("esxcli", ["network", "firewall", "ruleset", "allowedip", "remove", id, "--ip-address=" + e]));
        }

        return string.Join(" && ", lines);
    }
}
