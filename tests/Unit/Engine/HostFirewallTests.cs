using System.Net;
using Ceso.Engine;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;

namespace Ceso.Tests.Engine;

/// <summary>Firewall allowlists: input checks, the lockout test, and the order of the esxcli changes.</summary>
public sealed class HostFirewallTests
{
    [Theory]
    [InlineData("10.0.0.5", "10.0.0.5")]
    [InlineData(" 10.0.0.0/24 ", "10.0.0.0/24")]
    [InlineData("fd00::/64", "fd00::/64")]
    [InlineData("FD00::5", "fd00::5")]
    public void Addresses_and_networks_are_normalized(string input, string expected) => Assert.Equal(expected, HostFirewall.Normalize(input));

    [Theory]
    [InlineData("10.0.0.5/24")]
    [InlineData("10.0.0.0/33")]
    [InlineData("esx01")]
    [InlineData("")]
    public void Anything_else_is_FirewallAddressInvalid(string input) =>
        Assert.Equal("FirewallAddressInvalid", Assert.Throws<CesoException>(() => HostFirewall.Normalize(input)).ErrorId);

    [Fact]
    public void An_address_is_allowed_by_itself_or_a_network_around_it()
    {
        Assert.True(HostFirewall.Allows(["10.0.0.0/24"], IPAddress.Parse("10.0.0.77")));
        Assert.True(HostFirewall.Allows(["192.168.1.5", "127.0.0.1"], IPAddress.Parse("127.0.0.1")));
        Assert.True(HostFirewall.Allows(["127.0.0.0/8"], IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.False(HostFirewall.Allows(["10.0.0.0/24"], IPAddress.Parse("10.0.1.1")));
        Assert.False(HostFirewall.Allows([], IPAddress.Parse("10.0.0.1")));
    }

    [Fact]
    public void The_esxcli_change_adds_first_then_restricts_then_removes()
    {
        var from = new CesoFirewallRuleset { Server = "esx", Name = "sshServer", Enabled = true, AllowedAll = true, AllowedIPAddresses = ["10.9.9.9"] };
        var line = HostFirewall.EsxcliChange(from, false, ["10.0.0.0/24"]);
        var add = line.IndexOf("allowedip add", StringComparison.Ordinal);
        var set = line.IndexOf("--allowed-all=false", StringComparison.Ordinal);
        var remove = line.IndexOf("allowedip remove", StringComparison.Ordinal);
        Assert.True(add >= 0 && add < set && set < remove, line);
        Assert.Contains("'--ip-address=10.9.9.9'", line[remove..]);
    }

    [Fact]
    public void Esxcli_tables_read_into_rulesets()
    {
        var list = "Name           Enabled\n-------------  -------\nsshServer      true\nvSphereClient  false\n";
        var allowed = "Ruleset        Allowed IP Addresses\n-------------  ----------------------\nsshServer      127.0.0.1, 10.0.0.0/24\nvSphereClient  All\n";
        var r = HostFirewall.FromEsxcli("esx", list, allowed);
        Assert.Equal(["sshServer", "vSphereClient"], r.Select(x => x.Name));
        Assert.False(r[0].AllowedAll);
        Assert.Equal(["10.0.0.0/24", "127.0.0.1"], r[0].AllowedIPAddresses);
        Assert.True(r[1].AllowedAll);
        Assert.False(r[1].Enabled);
    }
}
