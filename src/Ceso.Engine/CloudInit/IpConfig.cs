using System.Net;
using System.Net.Sockets;

namespace Ceso.Engine.CloudInit;

/// <summary>One static address in CIDR form, validated: "10.0.0.5/24" or "fd00::5/64".</summary>
public sealed record CidrAddress(IPAddress Address, int PrefixLength)
{
    /// <summary>Parses and checks a CIDR; the error names the input and shows the expected form.</summary>
    public static CidrAddress Parse(string text)
    {
        var slash = text.IndexOf('/');
        if (slash < 0 || !IPAddress.TryParse(text[..slash], out var ip) || !int.TryParse(text[(slash + 1)..], out var prefix))
        {
            throw Invalid("InvalidIPAddress", $"'{text}' is not an address in CIDR form. Write it with its prefix length, e.g. 10.0.0.5/24 or fd00::5/64.", text);
        }

        var max = ip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (prefix < 1 || prefix > max)
        {
            throw Invalid("InvalidIPAddress", $"'{text}': the prefix length must be between 1 and {max}.", text);
        }

        var c = new CidrAddress(ip, prefix);
        if (ip.AddressFamily == AddressFamily.InterNetwork && prefix <= 30 && (ip.Equals(c.Network) || ip.Equals(c.Broadcast)))
        {
            throw Invalid("InvalidIPAddress", $"'{text}' is the {(ip.Equals(c.Network) ? "network" : "broadcast")} address of its subnet; give a host address.", text);
        }

        return c;
    }

    /// <summary>The subnet's network address.</summary>
    public IPAddress Network => Mask(Address, PrefixLength, fill: false);

    /// <summary>The IPv4 broadcast address (all host bits set).</summary>
    public IPAddress Broadcast => Mask(Address, PrefixLength, fill: true);

    /// <summary>The first host address of the subnet (the conventional gateway).</summary>
    public IPAddress FirstHost
    {
        get
        {
            var b = Network.GetAddressBytes();
            b[^1] |= 1;
            return new IPAddress(b);
        }
    }

    /// <summary>Whether an address lies in this subnet.</summary>
    public bool Contains(IPAddress other) =>
        other.AddressFamily == Address.AddressFamily && Mask(other, PrefixLength, false).Equals(Network);

    /// <inheritdoc />
    public override string ToString() => $"{Address}/{PrefixLength}";

    private static IPAddress Mask(IPAddress ip, int prefix, bool fill)
    {
        var b = ip.GetAddressBytes();
        for (var i = 0; i < b.Length; i++)
        {
            var bits = Math.Clamp(prefix - i * 8, 0, 8);
            var mask = (byte)(0xFF << (8 - bits));
            b[i] = fill ? (byte)(b[i] | ~mask) : (byte)(b[i] & mask);
        }

        return new IPAddress(b);
    }

    private static CesoException Invalid(string id, string message, string target) =>
        new(id, CesoErrorKind.InvalidArgument, message) { Target = target };
}
