using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Ceso.Engine.CloudInit;

/// <summary>
/// Builds cloud-init's VMware guestinfo: <c>guestinfo.metadata</c> (instance-id, local-hostname, and network config
/// version 2 under <c>network</c>) and <c>guestinfo.userdata</c> (cloud-config: hostname, SSH keys), each
/// gzip+base64 encoded. Payloads use only what cloud-init 22.4 (Debian 12) already reads and later versions keep:
/// metadata as JSON, routes as 0.0.0.0/0 and ::/0 (no "default", no gateway4/gateway6).
/// </summary>
public static partial class GuestInfoBuilder
{
    /// <summary>The largest encoded value per key: one guest RPC message is capped at 64 KB.</summary>
    public const int MaxEncodedBytes = 63 * 1024;

    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Validates the request and builds the guestinfo keys.</summary>
    public static GuestInfo Build(GuestInfoRequest request)
    {
        var notes = new List<string>();
        var instanceId = request.InstanceId ?? "i-" + Guid.NewGuid().ToString("N");
        request = request with { InstanceId = instanceId };
        var hostname = Hostname(request, notes);
        var addresses = request.IPAddresses.Select(CidrAddress.Parse).ToList();
        var dns = request.DnsServers.Select(d => IPAddress.TryParse(d, out var ip) ? ip
            : throw Invalid("InvalidDnsServer", $"DNS server '{d}' is not an IP address.", d)).ToList();
        foreach (var domain in request.SearchDomains.Where(d => !IsDnsName(d)))
        {
            throw Invalid("InvalidSearchDomain", $"Search domain '{domain}' is not a DNS name (labels of letters, digits and '-', separated by dots).", domain);
        }

        // Network settings without an address used to be dropped without a word, and on Set-CesoVm they replaced a
        // static network with DHCP. They only mean something in a static network config, so ask for the address.
        if (addresses.Count == 0 && (dns.Count > 0 || request.SearchDomains.Count > 0 || request.Gateways.Count > 0))
        {
            var given = string.Join(", ", new[] { request.Gateways.Count > 0 ? "-Gateway" : null, dns.Count > 0 ? "-DnsServer" : null, request.SearchDomains.Count > 0 ? "-SearchDomain" : null }.Where(g => g is not null));
            throw Invalid("NetworkNeedsIPAddress",
                $"{given} for '{request.VmName}' need -IPAddress: they are written into a static network config, and without an address the guest uses DHCP, whose server supplies them. Give -IPAddress too (for a re-IP, the VM's addresses again), or leave them out.",
                given);
        }

        var metadata = new JsonObject
        {
            ["instance-id"] = request.InstanceId,
            ["local-hostname"] = hostname,
        };
        if (addresses.Count > 0)
        {
            metadata["network"] = Network(request, addresses, dns, notes);
        }
        else
        {
            notes.Add("no static address given: the guest uses DHCP");
        }

        var userdata = UserData(request, hostname);
        var config = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["guestinfo.metadata"] = Encode("guestinfo.metadata", metadata.ToJsonString(Json)),
            ["guestinfo.metadata.encoding"] = "gzip+base64",
            ["guestinfo.userdata"] = Encode("guestinfo.userdata", userdata),
            ["guestinfo.userdata.encoding"] = "gzip+base64",
        };
        return new GuestInfo(config, notes, hostname, instanceId);
    }

    /// <summary>Decodes a gzip+base64 value (for tests and for reading back what a VM carries).</summary>
    public static string Decode(string value)
    {
        using var input = new GZipStream(new MemoryStream(Convert.FromBase64String(value)), CompressionMode.Decompress);
        using var reader = new StreamReader(input, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static string Hostname(GuestInfoRequest r, List<string> notes)
    {
        var name = r.Hostname ?? r.VmName;
        if (!IsDnsLabel(name))
        {
            throw Invalid("InvalidHostname",
                r.Hostname is null
                    ? $"The VM name '{r.VmName}' cannot be the hostname: a hostname is 1-63 letters, digits and '-', not starting or ending with '-'. Give one with -Hostname."
                    : $"Hostname '{r.Hostname}' is not a DNS label: use 1-63 letters, digits and '-', not starting or ending with '-'.",
                name);
        }

        if (r.Hostname is null)
        {
            notes.Add($"hostname '{name}' (the VM name)");
        }

        return name.ToLowerInvariant();
    }

    private static JsonObject Network(GuestInfoRequest r, List<CidrAddress> addresses, List<IPAddress> dns, List<string> notes)
    {
        var gateways = r.Gateways.Select(g => IPAddress.TryParse(g, out var ip) ? ip
            : throw Invalid("InvalidGateway", $"Gateway '{g}' is not an IP address.", g)).ToList();
        var routes = new JsonArray();
        foreach (var family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            var ofFamily = addresses.Where(a => a.Address.AddressFamily == family).ToList();
            var given = gateways.Where(g => g.AddressFamily == family).ToList();
            if (given.Count > 1)
            {
                throw Invalid("InvalidGateway", $"Give at most one {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} gateway; got {string.Join(", ", given)}.", string.Join(",", given));
            }

            if (ofFamily.Count == 0)
            {
                if (given.Count == 1)
                {
                    throw Invalid("GatewayOutsideSubnet", $"Gateway {given[0]} has no {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address to go with it; add one with -IPAddress.", given[0].ToString());
                }

                continue;
            }

            IPAddress gw;
            if (given.Count == 1)
            {
                gw = given[0];
                if (!ofFamily.Any(a => a.Contains(gw)))
                {
                    throw Invalid("GatewayOutsideSubnet",
                        $"Gateway {gw} is outside the subnet of {string.Join(", ", ofFamily)}; the guest could not reach it. Give a gateway inside {ofFamily[0].Network}/{ofFamily[0].PrefixLength}.",
                        gw.ToString());
                }
            }
            else
            {
                gw = ofFamily[0].FirstHost;
                notes.Add($"gateway {gw} (first host of {ofFamily[0].Network}/{ofFamily[0].PrefixLength}; give -Gateway to choose another)");
            }

            routes.Add(new JsonObject { ["to"] = family == AddressFamily.InterNetwork ? "0.0.0.0/0" : "::/0", ["via"] = gw.ToString() });
        }

        var nic = new JsonObject
        {
            ["match"] = r.MacAddress is null ? new JsonObject { ["name"] = "e*" } : new JsonObject { ["macaddress"] = NormalizeMac(r.MacAddress) },
            ["dhcp4"] = false,
            ["dhcp6"] = false,
            ["addresses"] = new JsonArray(addresses.Select(a => (JsonNode)JsonValue.Create(a.ToString())!).ToArray()),
            ["routes"] = routes,
        };
        if (r.MacAddress is not null)
        {
            nic["set-name"] = "eth0"; // netplan renames only on a MAC match
        }

        if (dns.Count > 0 || r.SearchDomains.Count > 0)
        {
            nic["nameservers"] = new JsonObject
            {
                ["addresses"] = new JsonArray(dns.Select(d => (JsonNode)JsonValue.Create(d.ToString())!).ToArray()),
                ["search"] = new JsonArray(r.SearchDomains.Select(d => (JsonNode)JsonValue.Create(d)!).ToArray()),
            };
        }

        return new JsonObject { ["version"] = 2, ["ethernets"] = new JsonObject { ["eth0"] = nic } };
    }

    private static string UserData(GuestInfoRequest r, string hostname)
    {
        foreach (var key in r.SshKeys)
        {
            if (!SshKey().IsMatch(key.Trim()))
            {
                throw Invalid("InvalidSshKey",
                    $"'{Shorten(key)}' is not an OpenSSH public key (one line: type, base64 key, optional comment, e.g. 'ssh-ed25519 AAAA… me@host'). Give the .pub file's content or its path.",
                    Shorten(key));
            }
        }

        // YAML accepts JSON strings as double-quoted scalars, so values are written with the JSON encoder: no quoting bugs.
        var sb = new StringBuilder("#cloud-config\n");
        sb.Append("hostname: ").Append(JsonSerializer.Serialize(hostname, Json)).Append('\n');
        sb.Append("preserve_hostname: false\n");
        if (r.SshKeys.Count > 0)
        {
            sb.Append("ssh_authorized_keys:\n");
            foreach (var key in r.SshKeys)
            {
                sb.Append("  - ").Append(JsonSerializer.Serialize(key.Trim(), Json)).Append('\n');
            }
        }

        var cloudConfig = sb.ToString();
        if (string.IsNullOrWhiteSpace(r.ExtraUserData))
        {
            return cloudConfig;
        }

        // cloud-init merges the parts of a MIME multipart user-data; the user's part comes last and wins on conflicts.
        // Derived from the parts, so the same input gives the same user-data (stable plans) and no part contains it.
        var boundary = "==ceso" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(cloudConfig + "\u0000" + r.ExtraUserData)))[..32].ToLowerInvariant() + "==";
        var extraType = r.ExtraUserData.StartsWith("#!", StringComparison.Ordinal) ? "text/x-shellscript" : "text/cloud-config";
        return $"Content-Type: multipart/mixed; boundary=\"{boundary}\"\nMIME-Version: 1.0\n\n" +
               $"--{boundary}\nContent-Type: text/cloud-config; charset=\"utf-8\"\nMIME-Version: 1.0\nContent-Disposition: attachment; filename=\"ceso.cfg\"\n\n{cloudConfig}\n" +
               $"--{boundary}\nContent-Type: {extraType}; charset=\"utf-8\"\nMIME-Version: 1.0\nContent-Disposition: attachment; filename=\"user-data\"\n\n{r.ExtraUserData.TrimEnd()}\n" +
               $"--{boundary}--\n";
    }

    private static string Encode(string key, string text)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gz.Write(Encoding.UTF8.GetBytes(text));
        }

        var encoded = Convert.ToBase64String(ms.ToArray());
        if (encoded.Length > MaxEncodedBytes)
        {
            throw Invalid("GuestInfoTooLarge",
                $"{key} is {encoded.Length / 1024} KB after gzip+base64; the guest can read at most {MaxEncodedBytes / 1024} KB per key (one guest RPC message). Shorten the user-data, e.g. fetch large files from a URL in it.",
                key);
        }

        return encoded;
    }

    /// <summary>A DNS label (RFC 1123): 1-63 letters, digits, '-', not starting or ending with '-'.</summary>
    public static bool IsDnsLabel(string s) => DnsLabel().IsMatch(s);

    private static bool IsDnsName(string s) => s.Length <= 253 && s.TrimEnd('.').Split('.').All(IsDnsLabel);

    private static string NormalizeMac(string mac)
    {
        var m = mac.Trim().ToLowerInvariant().Replace('-', ':');
        return MacPattern().IsMatch(m) ? m : throw Invalid("InvalidMacAddress", $"'{mac}' is not a MAC address (six hex pairs, e.g. 00:50:56:12:34:56).", mac);
    }

    // Guest input errors: each check names its own error id (InvalidHostname, InvalidDnsServer, …) and the input.
    private static CesoException Invalid(string id, string message, string target) =>
        new(id, CesoErrorKind.InvalidArgument, message) { Target = target };

    private static string Shorten(string s) => s.Length > 40 ? s[..40] + "…" : s;

    [GeneratedRegex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")]
    private static partial Regex MacPattern();

    [GeneratedRegex(@"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)(-cert-v01@openssh\.com)? [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$")]
    private static partial Regex SshKey();
}
