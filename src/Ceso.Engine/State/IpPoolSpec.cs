using System.Net;
using System.Net.Sockets;
using Ceso.Engine.CloudInit;

namespace Ceso.Engine.State;

/// <summary>An address as a number (IPv4 in the low 32 bits), so ranges are counted and walked without byte juggling.</summary>
internal static class IpNumber
{
    public static UInt128 Of(IPAddress ip)
    {
        var bytes = ip.GetAddressBytes();
        UInt128 n = 0;
        foreach (var b in bytes)
        {
            n = (n << 8) | b;
        }

        return n;
    }

    public static IPAddress ToAddress(UInt128 n, AddressFamily family)
    {
        var bytes = new byte[family == AddressFamily.InterNetwork ? 4 : 16];
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(n & 0xFF);
            n >>= 8;
        }

        return new IPAddress(bytes);
    }

    /// <summary>The canonical text of an address (what the lease table stores and compares).</summary>
    public static string Canonical(IPAddress ip) => (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).ToString();
}

/// <summary>One range of a pool: <c>Start</c> to <c>End</c>, both included.</summary>
/// <param name="Start">First address.</param>
/// <param name="End">Last address (equal to Start for a single address).</param>
public sealed record IpRange(IPAddress Start, IPAddress End)
{
    internal UInt128 First => IpNumber.Of(Start);
    internal UInt128 Last => IpNumber.Of(End);

    /// <summary>How many addresses the range spans.</summary>
    public System.Numerics.BigInteger Count => (System.Numerics.BigInteger)(Last - First) + 1;

    /// <summary>Whether the range holds the address.</summary>
    public bool Contains(IPAddress ip) => ip.AddressFamily == Start.AddressFamily && IpNumber.Of(ip) >= First && IpNumber.Of(ip) <= Last;

    /// <summary><c>10.0.0.50-10.0.0.99</c>, or one address.</summary>
    public override string ToString() => Start.Equals(End) ? Start.ToString() : $"{Start}-{End}";
}

/// <summary>
/// A validated IP pool definition: a subnet (IPv4 or IPv6, given as its network address and prefix length), the
/// ranges addresses are leased from (inside the subnet, not overlapping), an optional gateway, DNS servers and search
/// domains. <see cref="Reserved"/> are never leased: the network address, the IPv4 broadcast address and the gateway
/// (when none is given, the subnet's first host, which cloud-init config then uses as the gateway).
/// </summary>
public sealed record IpPoolSpec
{
    /// <summary>The pool's name.</summary>
    public required string Name { get; init; }

    /// <summary>The subnet's network address.</summary>
    public required IPAddress Network { get; init; }

    /// <summary>The subnet's prefix length.</summary>
    public required int PrefixLength { get; init; }

    /// <summary>The ranges, in the order given.</summary>
    public required IReadOnlyList<IpRange> Ranges { get; init; }

    /// <summary>The gateway, or null (the guest then gets the subnet's first host).</summary>
    public IPAddress? Gateway { get; init; }

    /// <summary>DNS servers.</summary>
    public IReadOnlyList<IPAddress> DnsServers { get; init; } = [];

    /// <summary>DNS search domains.</summary>
    public IReadOnlyList<string> SearchDomains { get; init; } = [];

    /// <summary>What the pool is for.</summary>
    public string? Description { get; init; }

    /// <summary>The subnet in CIDR form.</summary>
    public string Subnet => $"{Network}/{PrefixLength}";

    internal CidrAddress Cidr => new(Network, PrefixLength);

    /// <summary>Addresses of the subnet that are never leased.</summary>
    public IReadOnlyList<IPAddress> Reserved
    {
        get
        {
            var list = new List<IPAddress>();
            var v4 = Network.AddressFamily == AddressFamily.InterNetwork;
            if ((v4 && PrefixLength <= 30) || (!v4 && PrefixLength <= 126))
            {
                list.Add(Network); // IPv6: the subnet-router anycast address
            }

            if (v4 && PrefixLength <= 30)
            {
                list.Add(Cidr.Broadcast);
            }

            list.Add(Gateway ?? Cidr.FirstHost);
            return list.Distinct().ToList();
        }
    }

    /// <summary>Addresses the ranges can hand out: their size less the reserved addresses inside them.</summary>
    public System.Numerics.BigInteger Size =>
        Ranges.Aggregate(System.Numerics.BigInteger.Zero, (sum, r) => sum + r.Count) - Reserved.Count(a => Ranges.Any(r => r.Contains(a)));

    /// <summary>Parses and checks a pool: every error names the input and says what a valid one looks like.</summary>
    /// <param name="name">Letters, digits, '.', '_' and '-', starting with a letter or digit.</param>
    /// <param name="subnet">The network in CIDR form: 10.0.0.0/24, fd00:10::/64.</param>
    /// <param name="ranges">START-END or one address each; none = the whole subnet.</param>
    /// <param name="gateway">The gateway, inside the subnet.</param>
    /// <param name="dns">DNS server addresses.</param>
    /// <param name="search">DNS search domains.</param>
    /// <param name="description">What the pool is for.</param>
    public static IpPoolSpec Parse(string name, string subnet, IReadOnlyList<string>? ranges, string? gateway = null,
        IReadOnlyList<string>? dns = null, IReadOnlyList<string>? search = null, string? description = null)
    {
        CheckName(name);
        var slash = subnet.IndexOf('/');
        if (slash < 0 || !IPAddress.TryParse(subnet[..slash], out var ip) || !int.TryParse(subnet[(slash + 1)..], out var prefix)
            || prefix < 1 || prefix > (ip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
        {
            throw Invalid("IPPoolSubnetInvalid", $"Subnet '{subnet}' is not a network in CIDR form; write it as 10.0.0.0/24 or fd00:10::/64.", subnet);
        }

        var cidr = new CidrAddress(ip, prefix);
        if (!cidr.Network.Equals(ip))
        {
            throw Invalid("IPPoolSubnetInvalid", $"'{subnet}' is an address, not a network: its network is {cidr.Network}/{prefix}. Give -Subnet {cidr.Network}/{prefix}.", subnet);
        }

        var parsed = new List<IpRange>();
        foreach (var text in ranges is { Count: > 0 } ? ranges : [$"{cidr.Network}-{cidr.Broadcast}"])
        {
            parsed.Add(ParseRange(text, cidr));
        }

        var sorted = parsed.OrderBy(r => r.First).ToList();
        for (var i = 1; i < sorted.Count; i++)
        {
            if (sorted[i].First <= sorted[i - 1].Last)
            {
                throw Invalid("IPPoolRangeInvalid", $"Ranges {sorted[i - 1]} and {sorted[i]} overlap; give each address once.", sorted[i].ToString());
            }
        }

        IPAddress? gw = null;
        if (!string.IsNullOrWhiteSpace(gateway))
        {
            if (!IPAddress.TryParse(gateway, out gw) || !cidr.Contains(gw))
            {
                throw Invalid("IPPoolGatewayInvalid", $"Gateway '{gateway}' is not an address inside {cidr.Network}/{prefix}; the guests could not reach it.", gateway);
            }
        }

        var servers = (dns ?? []).Select(d => IPAddress.TryParse(d, out var a) ? a
            : throw Invalid("InvalidDnsServer", $"DNS server '{d}' is not an IP address.", d)).ToList();
        foreach (var domain in (search ?? []).Where(d => d.Length > 253 || !d.TrimEnd('.').Split('.').All(GuestInfoBuilder.IsDnsLabel)))
        {
            throw Invalid("InvalidSearchDomain", $"Search domain '{domain}' is not a DNS name (labels of letters, digits and '-', separated by dots).", domain);
        }

        var spec = new IpPoolSpec
        {
            Name = name,
            Network = cidr.Network,
            PrefixLength = prefix,
            Ranges = parsed,
            Gateway = gw,
            DnsServers = servers,
            SearchDomains = search ?? [],
            Description = description,
        };
        if (spec.Size <= 0)
        {
            throw Invalid("IPPoolRangeInvalid", $"The ranges of '{name}' hold no address that can be leased (only {string.Join(", ", spec.Reserved)}, which are reserved).", name);
        }

        return spec;
    }

    /// <summary>Refuses a pool name that is not letters, digits, '.', '_' and '-' starting with a letter or digit.</summary>
    public static void CheckName(string name)
    {
        if (name.Length is 0 or > 64 || !char.IsAsciiLetterOrDigit(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            throw Invalid("IPPoolNameInvalid", $"'{name}' is not a pool name: use 1-64 letters, digits, '.', '_' and '-', starting with a letter or digit.", name);
        }
    }

    private static IpRange ParseRange(string text, CidrAddress cidr)
    {
        var parts = text.Split('-', 2, StringSplitOptions.TrimEntries);
        if (!IPAddress.TryParse(parts[0], out var start) || !IPAddress.TryParse(parts.Length == 2 ? parts[1] : parts[0], out var end))
        {
            throw Invalid("IPPoolRangeInvalid", $"Range '{text}' is not START-END (10.0.0.50-10.0.0.99, fd00::10-fd00::ff) or one address.", text);
        }

        if (!cidr.Contains(start) || !cidr.Contains(end))
        {
            throw Invalid("IPPoolRangeInvalid", $"Range '{text}' is not inside the subnet {cidr.Network}/{cidr.PrefixLength}; give addresses of that subnet.", text);
        }

        var range = new IpRange(start, end);
        if (range.First > range.Last)
        {
            throw Invalid("IPPoolRangeInvalid", $"Range '{text}' ends before it starts; write the lower address first ({end}-{start}).", text);
        }

        return range;
    }

    private static CesoException Invalid(string id, string message, string target) =>
        new(id, CesoErrorKind.InvalidArgument, message) { Target = target };
}
