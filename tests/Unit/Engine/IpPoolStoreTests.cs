using System.Net;
using Ceso.Engine;
using Ceso.Engine.CloudInit;
using Ceso.Engine.Connection;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.State;

namespace Ceso.Tests.Engine;

public sealed class IpPoolSpecTests
{
    [Fact]
    public void An_IPv4_pool_reserves_the_network_broadcast_and_gateway_and_counts_the_rest()
    {
        var spec = IpPoolSpec.Parse("lab", "10.0.0.0/24", ["10.0.0.1-10.0.0.10", "10.0.0.250-10.0.0.255"], "10.0.0.1");

        Assert.Equal("10.0.0.0/24", spec.Subnet);
        Assert.Equal(["10.0.0.0", "10.0.0.255", "10.0.0.1"], spec.Reserved.Select(a => a.ToString()));
        Assert.Equal(10 + 6 - 2, (int)spec.Size); // .1 (gateway) and .255 (broadcast) lie in the ranges
        Assert.Equal(["10.0.0.1-10.0.0.10", "10.0.0.250-10.0.0.255"], spec.Ranges.Select(r => r.ToString()));
    }

    [Fact]
    public void An_IPv6_pool_parses_ranges_and_counts_beyond_64_bits()
    {
        var small = IpPoolSpec.Parse("v6", "fd00:10::/64", ["fd00:10::10-fd00:10::ff"], dns: ["fd00:10::53"], search: ["lab.example"]);
        Assert.Equal(0xff - 0x10 + 1, (int)small.Size);
        Assert.Equal("fd00:10::53", small.DnsServers.Single().ToString());

        var whole = IpPoolSpec.Parse("big", "fd00:20::/48", null);
        Assert.Equal(System.Numerics.BigInteger.Pow(2, 80) - 2, whole.Size); // the subnet-router anycast and the first host
    }

    [Theory]
    [InlineData("10.0.0.0/24", "10.0.1.5-10.0.1.9", "IPPoolRangeInvalid")]
    [InlineData("10.0.0.0/24", "10.0.0.99-10.0.0.50", "IPPoolRangeInvalid")]
    [InlineData("10.0.0.0/24", "10.0.0.50-fd00::1", "IPPoolRangeInvalid")]
    [InlineData("10.0.0.0/24", "ten-twenty", "IPPoolRangeInvalid")]
    [InlineData("10.0.0.5/24", "10.0.0.50-10.0.0.60", "IPPoolSubnetInvalid")]
    [InlineData("10.0.0.0", "10.0.0.50-10.0.0.60", "IPPoolSubnetInvalid")]
    [InlineData("10.0.0.0/33", "10.0.0.50-10.0.0.60", "IPPoolSubnetInvalid")]
    [InlineData("fd00::/64", "fd00::1:0-fd00::0:ff", "IPPoolRangeInvalid")]
    public void A_bad_subnet_or_range_is_refused_with_its_error_id(string subnet, string range, string errorId)
    {
        var e = Assert.ThrowsAny<CesoException>(() => IpPoolSpec.Parse("lab", subnet, [range]));
        Assert.Equal(errorId, e.ErrorId);
    }

    [Fact]
    public void Overlapping_ranges_a_gateway_outside_the_subnet_and_a_bad_name_are_refused()
    {
        Assert.Equal("IPPoolRangeInvalid", Assert.ThrowsAny<CesoException>(() => IpPoolSpec.Parse("lab", "10.0.0.0/24", ["10.0.0.10-10.0.0.20", "10.0.0.20-10.0.0.30"])).ErrorId);
        Assert.Equal("IPPoolGatewayInvalid", Assert.ThrowsAny<CesoException>(() => IpPoolSpec.Parse("lab", "10.0.0.0/24", ["10.0.0.10-10.0.0.20"], "10.0.1.1")).ErrorId);
        Assert.Equal("IPPoolNameInvalid", Assert.ThrowsAny<CesoException>(() => IpPoolSpec.Parse("-lab", "10.0.0.0/24", null)).ErrorId);
        Assert.Equal("IPPoolRangeInvalid", Assert.ThrowsAny<CesoException>(() => IpPoolSpec.Parse("lab", "10.0.0.0/24", ["10.0.0.1"])).ErrorId); // only the gateway
    }
}

public sealed class IpPoolStoreTests : IDisposable
{
    private static readonly IPAddress[] None = [];
    private readonly CesoHome _home = new(Directory.CreateTempSubdirectory("ceso-ippool-").FullName);
    private readonly IpPoolStore _store;

    public IpPoolStoreTests() => _store = new IpPoolStore(_home);

    public void Dispose() => Directory.Delete(_home.Path, true);

    private Task<CesoIPPool> CreateAsync(string name, string subnet, params string[] ranges) =>
        _store.CreateAsync(IpPoolSpec.Parse(name, subnet, ranges, dns: ["10.0.0.53"], search: ["lab.example"]));

    [Fact]
    public async Task A_created_pool_is_listed_with_its_size_and_no_leases()
    {
        var pool = await CreateAsync("lab", "10.0.0.0/24", "10.0.0.50-10.0.0.99");

        Assert.Equal(Path.Combine(_home.Path, "ippools.db"), _store.FilePath);
        Assert.Equal(50, (int)pool.Size);
        Assert.Equal(0, pool.Used);
        Assert.Equal(50, (int)pool.Free);
        Assert.Equal(["lab"], (await _store.ListAsync()).Select(p => p.Name));
        Assert.Equal(["lab"], _store.Names());
    }

    [Fact]
    public async Task A_second_pool_of_the_same_name_or_with_an_overlapping_range_is_refused()
    {
        await CreateAsync("lab", "10.0.0.0/24", "10.0.0.50-10.0.0.99");

        Assert.Equal("IPPoolExists", (await Assert.ThrowsAnyAsync<CesoException>(() => CreateAsync("LAB", "10.1.0.0/24", "10.1.0.5-10.1.0.6"))).ErrorId);
        Assert.Equal("IPPoolOverlaps", (await Assert.ThrowsAnyAsync<CesoException>(() => CreateAsync("lab2", "10.0.0.0/16", "10.0.0.90-10.0.0.120"))).ErrorId);
    }

    [Fact]
    public async Task Leases_take_the_lowest_free_address_in_range_order_and_skip_reserved_and_host_used_ones()
    {
        await _store.CreateAsync(IpPoolSpec.Parse("lab", "10.0.0.0/24", ["10.0.0.0-10.0.0.3", "10.0.0.200-10.0.0.201"], "10.0.0.2"));
        var used = new[] { IPAddress.Parse("10.0.0.3"), IPAddress.Parse("10.9.9.9") };

        var peek = await _store.PeekAsync("lab", used);
        var first = await _store.LeaseAsync("lab", used, "esx01", "web01");
        var second = await _store.LeaseAsync("lab", used, "esx01", "web02");

        Assert.False(peek.Leased);
        Assert.Equal("10.0.0.1", peek.IPAddress);
        Assert.True(first.Leased);
        Assert.Equal("10.0.0.1/24", first.Cidr); // .0 is the network, .2 the gateway, .3 used on the host
        Assert.Equal("10.0.0.200", second.IPAddress);
        Assert.Equal("10.0.0.2", first.Gateway);
        var pool = await _store.GetAsync("lab");
        Assert.Equal(2, pool.Used);
        Assert.Equal(["web01", "web02"], (await _store.ListLeasesAsync("lab")).Select(l => l.VmName));
    }

    [Fact]
    public async Task An_exhausted_pool_says_so_and_a_release_makes_the_address_free_again()
    {
        await CreateAsync("tiny", "10.0.0.0/24", "10.0.0.50-10.0.0.51");
        await _store.LeaseAsync("tiny", None, "esx01", "a");
        var b = await _store.LeaseAsync("tiny", None, "esx01", "b");

        var e = await Assert.ThrowsAnyAsync<CesoException>(() => _store.LeaseAsync("tiny", None, "esx01", "c"));
        Assert.Equal("IPPoolExhausted", e.ErrorId);
        Assert.Equal(CesoErrorKind.InvalidState, e.Kind);
        Assert.Contains("Remove-CesoIPLease", e.Message, StringComparison.Ordinal);
        Assert.Equal("IPPoolExhausted", (await Assert.ThrowsAnyAsync<CesoException>(() => _store.PeekAsync("tiny", None))).ErrorId);

        Assert.True(await _store.ReleaseAsync("tiny", b.IPAddress));
        Assert.False(await _store.ReleaseAsync("tiny", b.IPAddress));
        Assert.Equal("10.0.0.51", (await _store.LeaseAsync("tiny", None, "esx01", "c")).IPAddress);
    }

    [Fact]
    public async Task Releasing_a_vm_frees_its_leases_on_that_server_only_by_id_when_known()
    {
        await CreateAsync("lab", "10.0.0.0/24", "10.0.0.50-10.0.0.99");
        var web = await _store.LeaseAsync("lab", None, "esx01", "web01");
        await _store.SetVmIdAsync("lab", web.IPAddress, "42");
        await _store.LeaseAsync("lab", None, "esx02", "web01");
        await _store.LeaseAsync("lab", None, "esx01", "db01");

        Assert.Empty(await _store.ReleaseVmAsync("esx01", "web01", "43")); // same name, another VM (id differs)
        var released = await _store.ReleaseVmAsync("esx01", "web01", "42");

        Assert.Equal([web.IPAddress], released.Select(l => l.IPAddress));
        Assert.Equal(["esx02/web01", "esx01/db01"], (await _store.ListLeasesAsync()).Select(l => $"{l.Server}/{l.VmName}"));
    }

    [Fact]
    public async Task A_pool_with_leases_is_removed_only_with_force()
    {
        await CreateAsync("lab", "10.0.0.0/24", "10.0.0.50-10.0.0.99");
        await _store.LeaseAsync("lab", None, "esx01", "web01");

        Assert.Equal("IPPoolInUse", (await Assert.ThrowsAnyAsync<CesoException>(() => _store.RemoveAsync("lab", force: false))).ErrorId);
        Assert.Single(await _store.RemoveAsync("lab", force: true));
        Assert.Empty(await _store.ListAsync());
        Assert.Empty(await _store.ListLeasesAsync());
        Assert.Equal("IPPoolNotFound", (await Assert.ThrowsAnyAsync<CesoException>(() => _store.RemoveAsync("lab", false))).ErrorId);
    }

    [Fact]
    public async Task IPv6_leases_walk_the_range_and_come_back_canonical()
    {
        await CreateAsync("v6", "fd00:10::/64", "FD00:10::0:10-fd00:10::12");
        var used = new[] { IPAddress.Parse("fd00:10::10") };

        Assert.Equal("fd00:10::11/64", (await _store.LeaseAsync("v6", used, "esx01", "a")).Cidr);
        Assert.Equal("fd00:10::12", (await _store.LeaseAsync("v6", used, "esx01", "b")).IPAddress);
        Assert.True(await _store.ReleaseAsync("v6", "FD00:10:0::11"));
    }

    [Fact(Timeout = 120_000)]
    public async Task Twenty_parallel_leases_from_separate_stores_get_twenty_distinct_addresses()
    {
        await CreateAsync("lab", "10.0.0.0/24", "10.0.0.50-10.0.0.99");

        // Each task has its own store object and so its own connections: as separate processes would.
        var leases = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() =>
            new IpPoolStore(_home).LeaseAsync("lab", None, "esx01", $"vm{i:00}"))));

        Assert.Equal(20, leases.Select(l => l.IPAddress).Distinct().Count());
        Assert.Equal(20, (await _store.GetAsync("lab")).Used);
        Assert.All(leases, l => Assert.InRange(IPAddress.Parse(l.IPAddress).GetAddressBytes()[3], 50, 69));
    }

    [Fact]
    public void The_addresses_a_host_uses_are_the_reported_ones_and_those_in_guestinfo()
    {
        var vms = new[]
        {
            new CesoVm { Server = "esx01", Id = "1", Name = "a", IPAddresses = ["10.0.0.7", "fe80::1"] },
            new CesoVm { Server = "esx01", Id = "2", Name = "b", GuestInfoIPAddresses = ["10.0.0.8", "10.0.0.7"] },
        };

        Assert.Equal(["10.0.0.7", "fe80::1", "10.0.0.8"], AddressLeasing.UsedBy(vms).Select(a => a.ToString()));
    }

    [Fact]
    public void Guestinfo_metadata_gives_its_static_addresses_in_json_and_in_yaml()
    {
        var info = GuestInfoBuilder.Build(new GuestInfoRequest { VmName = "web01", IPAddresses = ["10.0.0.5/24", "fd00::5/64"] });
        var json = GuestInfoAddresses.Parse(info.ExtraConfig["guestinfo.metadata"], info.ExtraConfig["guestinfo.metadata.encoding"]);
        var yaml = GuestInfoAddresses.Parse(Convert.ToBase64String("network:\n  version: 2\n  ethernets:\n    nics:\n      addresses: [192.168.1.9/24]\n"u8.ToArray()), "base64");

        Assert.Equal(["10.0.0.5", "fd00::5"], json.Select(a => a.ToString()));
        Assert.Equal(["192.168.1.9"], yaml.Select(a => a.ToString()));
        Assert.Empty(GuestInfoAddresses.Parse("not base64!", "gzip+base64"));
        Assert.Empty(GuestInfoAddresses.Parse(null, null));
    }
}
