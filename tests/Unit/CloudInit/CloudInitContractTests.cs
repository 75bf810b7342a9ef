using System.Diagnostics;
using System.Text.Json;
using Ceso.Engine;
using Ceso.Engine.CloudInit;
using Ceso.Tests.Integration;

namespace Ceso.Tests.CloudInit;

/// <summary>
/// Debian's cloud-init (the real consumer) decodes Ceso's guestinfo through its VMware datasource and renders it; the
/// tests assert the hostname, the netplan it writes and the authorized keys, and validate user-data with cloud-init's
/// own schema check.
/// </summary>
[Trait("Category", "Contract")]
public sealed class CloudInitContractTests
{
    private const string Key1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb1x3Yz0Vx5Rr3Ck9h2mZ7s3Yx0a8mR2qf5p2n0c1dE ops@laptop";
    private const string Key2 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 ci@runner";

    private static JsonElement RunCloudInit(GuestInfo info)
    {
        const string python = "/usr/bin/python3";
        var script = Path.Combine(TestBed.RepoRoot, "tests", "Unit", "CloudInit", "cloudinit_contract.py");
        Assert.True(File.Exists("/usr/lib/python3/dist-packages/cloudinit/sources/DataSourceVMware.py"),
            "Debian's cloud-init is not installed: apt-get install cloud-init (.ci/run does).");
        var work = Directory.CreateTempSubdirectory("ceso-cloudinit-").FullName;
        try
        {
            var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(script);
            psi.ArgumentList.Add(work);
            psi.Environment["VMX_GUESTINFO"] = "1";
            foreach (var (key, value) in info.ExtraConfig)
            {
                psi.Environment[("vmx." + key).ToUpperInvariant().Replace('.', '_')] = value;
            }

            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var stdout = p.StandardOutput.ReadToEnd();
            Assert.True(p.WaitForExit(60_000), "cloud-init did not finish in 60 s");
            Assert.True(p.ExitCode == 0, "cloud-init rejected the payload: " + err.Result);
            return JsonDocument.Parse(stdout).RootElement.Clone();
        }
        finally
        {
            Directory.Delete(work, true);
        }
    }

    private static JsonElement Nic(JsonElement ci) => ci.GetProperty("netplan").GetProperty("network").GetProperty("ethernets").GetProperty("eth0");

    private static string[] Strings(JsonElement e) => e.EnumerateArray().Select(x => x.GetString()!).ToArray();

    private static void AssertSchemaValid(JsonElement ci)
    {
        var schema = ci.GetProperty("schema").EnumerateArray().ToList();
        Assert.NotEmpty(schema);
        Assert.All(schema, s => Assert.True(s.GetProperty("rc").GetInt32() == 0, "cloud-init schema: " + s.GetProperty("out").GetString()));
    }

    [Fact]
    public void Ipv4_static_address_hostname_and_keys_are_what_cloud_init_renders()
    {
        var info = GuestInfoBuilder.Build(new GuestInfoRequest
        {
            VmName = "web01",
            IPAddresses = ["10.20.30.40/24"],
            DnsServers = ["10.20.30.2", "1.1.1.1"],
            SearchDomains = ["lab.local"],
            SshKeys = [Key1, Key2],
            MacAddress = "00:50:56:01:02:03",
        });

        var ci = RunCloudInit(info);

        Assert.True(ci.GetProperty("get_data").GetBoolean());
        Assert.Equal("web01", ci.GetProperty("hostname").GetString());
        Assert.Equal(info.InstanceId, ci.GetProperty("instance_id").GetString());
        var nic = Nic(ci);
        Assert.Equal("00:50:56:01:02:03", nic.GetProperty("match").GetProperty("macaddress").GetString());
        Assert.Equal(["10.20.30.40/24"], Strings(nic.GetProperty("addresses")));
        var route = Assert.Single(nic.GetProperty("routes").EnumerateArray());
        Assert.Equal(("0.0.0.0/0", "10.20.30.1"), (route.GetProperty("to").GetString(), route.GetProperty("via").GetString()));
        Assert.Equal(["10.20.30.2", "1.1.1.1"], Strings(nic.GetProperty("nameservers").GetProperty("addresses")));
        Assert.Equal(["lab.local"], Strings(nic.GetProperty("nameservers").GetProperty("search")));
        Assert.Equal([Key1, Key2], Strings(ci.GetProperty("userdata").GetProperty("ssh_authorized_keys")));
        Assert.Equal("web01", ci.GetProperty("userdata").GetProperty("hostname").GetString());
        Assert.Contains(info.Notes, n => n.Contains("gateway 10.20.30.1"));
        AssertSchemaValid(ci);
    }

    [Fact]
    public void Ipv6_only_with_an_explicit_gateway_is_rendered()
    {
        var info = GuestInfoBuilder.Build(new GuestInfoRequest
        {
            VmName = "v6only",
            IPAddresses = ["fd00:10::25/64"],
            Gateways = ["fd00:10::fffe"],
            DnsServers = ["fd00:10::53"],
            SshKeys = [Key1],
        });

        var ci = RunCloudInit(info);

        var nic = Nic(ci);
        Assert.Equal("e*", nic.GetProperty("match").GetProperty("name").GetString());
        Assert.Equal(["fd00:10::25/64"], Strings(nic.GetProperty("addresses")));
        var route = Assert.Single(nic.GetProperty("routes").EnumerateArray());
        Assert.Equal(("::/0", "fd00:10::fffe"), (route.GetProperty("to").GetString(), route.GetProperty("via").GetString()));
        Assert.Equal("v6only", ci.GetProperty("hostname").GetString());
        AssertSchemaValid(ci);
    }

    [Fact]
    public void Dual_stack_gets_both_routes_and_extra_user_data_is_merged_after_ours()
    {
        var info = GuestInfoBuilder.Build(new GuestInfoRequest
        {
            VmName = "Dual-Stack01",
            Hostname = "dual01",
            IPAddresses = ["192.168.50.10/24", "2001:db8:50::10/64"],
            Gateways = ["192.168.50.254"],
            SshKeys = [Key1],
            ExtraUserData = "#cloud-config\npackages:\n  - nginx\ntimezone: Europe/Berlin\n",
        });

        var ci = RunCloudInit(info);

        var routes = Nic(ci).GetProperty("routes").EnumerateArray().Select(r => (r.GetProperty("to").GetString(), r.GetProperty("via").GetString())).ToList();
        Assert.Equal([("0.0.0.0/0", "192.168.50.254"), ("::/0", "2001:db8:50::1")], routes);
        Assert.Equal(["192.168.50.10/24", "2001:db8:50::10/64"], Strings(Nic(ci).GetProperty("addresses")));
        Assert.Equal("dual01", ci.GetProperty("hostname").GetString());
        var ud = ci.GetProperty("userdata");
        Assert.Equal([Key1], Strings(ud.GetProperty("ssh_authorized_keys")));
        Assert.Equal(["nginx"], Strings(ud.GetProperty("packages")));
        Assert.Equal(2, ci.GetProperty("userdata_parts").GetArrayLength());
        AssertSchemaValid(ci);
    }

    [Fact]
    public void Every_copy_gets_a_new_instance_id()
    {
        var a = GuestInfoBuilder.Build(new GuestInfoRequest { VmName = "a" });
        var b = GuestInfoBuilder.Build(new GuestInfoRequest { VmName = "a" });
        Assert.NotEqual(a.InstanceId, b.InstanceId);
        Assert.Equal(a.InstanceId, RunCloudInit(a).GetProperty("instance_id").GetString());
    }
}

public sealed class GuestInfoValidationTests
{
    [Theory]
    [InlineData("10.0.0.5", "InvalidIPAddress")]
    [InlineData("10.0.0.5/33", "InvalidIPAddress")]
    [InlineData("10.0.0.0/24", "InvalidIPAddress")]
    [InlineData("10.0.0.255/24", "InvalidIPAddress")]
    [InlineData("300.1.1.1/24", "InvalidIPAddress")]
    [InlineData("fd00::1/129", "InvalidIPAddress")]
    public void Bad_cidrs_are_refused_with_an_error_naming_the_input(string cidr, string errorId)
    {
        var e = Assert.Throws<CesoException>(() => GuestInfoBuilder.Build(new GuestInfoRequest { VmName = "vm", IPAddresses = [cidr] }));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Equal(CesoErrorKind.InvalidArgument, e.Kind);
        Assert.Contains(cidr, e.Message);
    }

    public static TheoryData<string, GuestInfoRequest, string> BadGuestInput => new()
    {
        { "InvalidDnsServer", new GuestInfoRequest { VmName = "vm", DnsServers = ["dns.example"] }, "dns.example" },
        { "InvalidSearchDomain", new GuestInfoRequest { VmName = "vm", SearchDomains = ["bad_domain"] }, "bad_domain" },
        { "NetworkNeedsIPAddress", new GuestInfoRequest { VmName = "vm", DnsServers = ["10.0.0.1"] }, "-DnsServer" },
        { "NetworkNeedsIPAddress", new GuestInfoRequest { VmName = "vm", SearchDomains = ["lab.example"] }, "-SearchDomain" },
        { "NetworkNeedsIPAddress", new GuestInfoRequest { VmName = "vm", Gateways = ["10.0.0.1"] }, "-Gateway" },
        { "InvalidHostname", new GuestInfoRequest { VmName = "vm", Hostname = "bad_host" }, "bad_host" },
        { "InvalidGateway", new GuestInfoRequest { VmName = "vm", IPAddresses = ["10.0.0.5/24"], Gateways = ["gw"] }, "gw" },
        { "InvalidMacAddress", new GuestInfoRequest { VmName = "vm", IPAddresses = ["10.0.0.5/24"], MacAddress = "00:50" }, "00:50" },
    };

    [Theory]
    [MemberData(nameof(BadGuestInput))]
    public void Each_kind_of_bad_guest_input_has_its_own_error_id_naming_the_input(string errorId, GuestInfoRequest request, string input)
    {
        var e = Assert.Throws<CesoException>(() => GuestInfoBuilder.Build(request));
        Assert.Equal((errorId, CesoErrorKind.InvalidArgument, (object)input), (e.ErrorId, e.Kind, e.Target!));
        Assert.Contains(input, e.Message);
    }

    [Fact]
    public void A_gateway_outside_the_subnet_is_refused()
    {
        var e = Assert.Throws<CesoException>(() => GuestInfoBuilder.Build(new GuestInfoRequest { VmName = "vm", IPAddresses = ["10.0.0.5/24"], Gateways = ["10.0.1.1"] }));
        Assert.Equal("GatewayOutsideSubnet", e.ErrorId);
        Assert.Contains("10.0.1.1", e.Message);
    }

    [Theory]
    [InlineData("web_01")]
    [InlineData("-web")]
    [InlineData("web;reboot")]
    [InlineData("a.b")]
    [InlineData("")]
    public void Hostnames_that_are_not_dns_labels_are_refused(string hostname)
    {
        var e = Assert.Throws<CesoException>(() => GuestInfoBuilder.Build(new GuestInfoRequest { VmName = "vm", Hostname = hostname }));
        Assert.Equal("InvalidHostname", e.ErrorId);
    }

    [Fact]
    public void A_vm_name_that_is_not_a_hostname_needs_an_explicit_hostname()
    {
        var e = Assert.Throws<CesoException>(() => GuestInfoBuilder.Build(new GuestInfoRequest { VmName = "web 01" }));
        Assert.Contains("-Hostname", e.Message);
        Assert.Equal("web01", GuestInfoBuilder.Build(new GuestInfoRequest { VmName = "web 01", Hostname = "web01" }).Hostname);
    }

    [Fact]
    public void A_malformed_ssh_key_is_refused() =>
        Assert.Equal("InvalidSshKey", Assert.Throws<CesoException>(() => GuestInfoBuilder.Build(new GuestInfoRequest { VmName = "vm", SshKeys = ["not a key\nrm -rf /"] })).ErrorId);

    [Fact]
    public void User_data_over_the_guest_rpc_limit_is_refused_with_the_size()
    {
        var random = new byte[80 * 1024];
        new Random(1).NextBytes(random);
        var big = "#cloud-config\nwrite_files:\n  - path: /x\n    content: " + Convert.ToBase64String(random) + "\n";
        var e = Assert.Throws<CesoException>(() => GuestInfoBuilder.Build(new GuestInfoRequest { VmName = "vm", ExtraUserData = big }));
        Assert.Equal("GuestInfoTooLarge", e.ErrorId);
        Assert.Contains("guestinfo.userdata", e.Message);
    }

    [Fact]
    public void Encoded_values_decode_back_to_the_payload()
    {
        var info = GuestInfoBuilder.Build(new GuestInfoRequest { VmName = "vm", IPAddresses = ["10.0.0.5/24"] });
        Assert.Equal("gzip+base64", info.ExtraConfig["guestinfo.metadata.encoding"]);
        var md = JsonDocument.Parse(GuestInfoBuilder.Decode(info.ExtraConfig["guestinfo.metadata"])).RootElement;
        Assert.Equal("vm", md.GetProperty("local-hostname").GetString());
        Assert.StartsWith("#cloud-config\n", GuestInfoBuilder.Decode(info.ExtraConfig["guestinfo.userdata"]));
    }
}
