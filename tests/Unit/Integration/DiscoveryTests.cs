using System.Text.Json;
using Ceso.Engine;
using Ceso.Engine.Hosts;
using Ceso.Engine.Soap;

namespace Ceso.Tests.Integration;

/// <summary>Discovery on the default persona (ESXi 8.0 U3).</summary>
[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DiscoveryTests(TestBed bed) : DiscoveryTestsBase(bed);

/// <summary>The same discovery tests on a test bed that presents as ESXi 7.0 U3.</summary>
[Collection(TestBed70U3Collection.Name)]
[Trait("Category", "Integration")]
public sealed class DiscoveryTests70U3(TestBed70U3 bed) : DiscoveryTestsBase(bed);

/// <summary>Discovery over both transports; every test runs on every persona (the subclasses above).</summary>
public abstract class DiscoveryTestsBase(TestBed bed)
{
    // The releases as published (build numbers and API versions of ESXi 7.0 U3n and 8.0 U3).
    public static readonly IReadOnlyDictionary<string, (string Version, string Build, string ApiVersion)> Releases =
        new Dictionary<string, (string, string, string)>
        {
            ["7.0u3"] = ("7.0.3", "21930508", "7.0.3.0"),
            ["8.0u3"] = ("8.0.3", "24022510", "8.0.3.0"),
        };

    [Fact]
    public async Task Host_version_and_build_are_the_personas_and_agree_over_soap_ssh_and_esxcli()
    {
        var expected = Releases[bed.Persona];
        Assert.Equal((expected.Version, expected.Build, expected.ApiVersion), (bed.Info.Version, bed.Info.Build, bed.Info.ApiVersion));
        await using var soap = await bed.ConnectAsync(Transport.Soap);
        await using var ssh = await bed.ConnectAsync(Transport.Ssh);

        var viaSoap = await soap.Inventory.GetHostAsync();
        var viaSsh = await ssh.Inventory.GetHostAsync();
        Assert.Equal((expected.Version, expected.Build), (viaSoap.Version, viaSoap.Build));
        Assert.Equal((expected.Version, expected.Build), (viaSsh.Version, viaSsh.Build));
        Assert.Equal(expected.Version, soap.HostVersion);
        Assert.Equal(expected.ApiVersion, soap.ServiceContent!.ApiVersion);
        Assert.Equal($"VMware ESXi {expected.Version} build-{expected.Build}", soap.ServiceContent.FullName);

        var esxcli = (await ssh.Ssh!.RunAsync("esxcli system version get")).EnsureSuccess("test bed").Stdout;
        var v = EsxcliVersion.Parse(esxcli);
        Assert.Equal((expected.Version, expected.Build), (v.Version, v.Build));
        Assert.Equal("3", v.Fields["Update"]);
        Assert.Matches(@"^   Product: VMware ESXi\n   Version: \S+\n   Build: Releasebuild-\d+\n   Update: \d+\n   Patch: \d+\n$", esxcli);
    }

    [Fact]
    public async Task Both_transports_list_the_same_datastores_though_esxcli_also_shows_osdata_and_bootbanks()
    {
        await using var soap = await bed.ConnectAsync(Transport.Soap);
        await using var ssh = await bed.ConnectAsync(Transport.Ssh);

        var table = (await ssh.Ssh!.RunAsync("esxcli storage filesystem list")).EnsureSuccess("test bed").Stdout;
        Assert.Contains("VMFSOS", table);
        Assert.Contains("BOOTBANK1", table);
        var names = (await soap.Inventory.GetDatastoresAsync()).Select(d => d.Name).ToList();
        Assert.Equal(bed.Info.Datastores.Select(d => d.Name).Order(StringComparer.Ordinal), names);
        Assert.Equal(names, (await ssh.Inventory.GetDatastoresAsync()).Select(d => d.Name));
    }

    [Fact]
    public async Task Vm_ids_are_plain_numbers_as_on_a_real_host_and_the_same_over_both_transports()
    {
        await using var soap = await bed.ConnectAsync(Transport.Soap);
        await using var ssh = await bed.ConnectAsync(Transport.Ssh);

        var ids = (await soap.Inventory.GetVmsAsync()).Select(v => v.Id).ToList();
        Assert.All(ids, id => Assert.Matches("^[0-9]+$", id));
        Assert.Equal(ids, (await ssh.Inventory.GetVmsAsync()).Select(v => v.Id));
    }

    [Fact]
    public async Task Soap_and_ssh_discovery_return_the_same_host_datastores_networks_and_vms()
    {
        await using var soap = await bed.ConnectAsync(Transport.Soap);
        await using var ssh = await bed.ConnectAsync(Transport.Ssh);
        Assert.Equal(Transport.Soap, soap.Inventory.Transport);
        Assert.Equal(Transport.Ssh, ssh.Inventory.Transport);

        var vmsSoap = await soap.Inventory.GetVmsAsync();
        var vmsSsh = await ssh.Inventory.GetVmsAsync();
        Assert.Equal(TestBed.InitialVms, vmsSoap.Count);
        Assert.All(vmsSoap, v => Assert.NotEmpty(v.Disks));
        Assert.All(vmsSoap, v => Assert.NotEmpty(v.Nics));
        Assert.Equal(Json(vmsSoap), Json(vmsSsh));

        var dsSoap = await soap.Inventory.GetDatastoresAsync();
        Assert.NotEmpty(dsSoap);
        Assert.All(dsSoap, d => Assert.StartsWith("ds:///vmfs/volumes/", d.Url));
        Assert.Equal(Json(dsSoap), Json(await ssh.Inventory.GetDatastoresAsync()));

        var netSoap = await soap.Inventory.GetNetworksAsync();
        Assert.Contains(netSoap, n => n.Name == "VM Network");
        Assert.Equal(Json(netSoap), Json(await ssh.Inventory.GetNetworksAsync()));

        var hostSoap = await soap.Inventory.GetHostAsync();
        Assert.False(string.IsNullOrEmpty(hostSoap.Version));
        Assert.True(hostSoap.MemoryBytes > 0);
        Assert.Equal(Json(hostSoap), Json(await ssh.Inventory.GetHostAsync()));
    }

    [Fact]
    public async Task Guest_ips_and_tools_state_reported_by_vmware_tools_read_the_same_over_both_transports()
    {
        await using var soap = await bed.ConnectAsync(Transport.Soap);
        await using var ssh = await bed.ConnectAsync(Transport.Ssh);
        var vm = (await soap.Inventory.GetVmsAsync()).Single(v => v.Name == "vm02");
        var pc = soap.ServiceContent!.PropertyCollector;
        System.Xml.Linq.XNamespace ns = "urn:vim25";
        System.Xml.Linq.XNamespace xsi = "http://www.w3.org/2001/XMLSchema-instance";
        System.Xml.Linq.XElement Option(string key, string value) => new(ns + "extraConfig", new System.Xml.Linq.XAttribute(xsi + "type", "OptionValue"),
            new System.Xml.Linq.XElement(ns + "key", key), new System.Xml.Linq.XElement(ns + "value", new System.Xml.Linq.XAttribute(xsi + "type", "xsd:string"), value));
        await soap.Soap!.InvokeTaskAsync(pc, "PowerOnVM_Task", new MoRef("VirtualMachine", vm.Id), [], default);
        try
        {
            // vcsim's way to play VMware Tools reporting from inside the guest.
            await soap.Soap.InvokeTaskAsync(pc, "ReconfigVM_Task", new MoRef("VirtualMachine", vm.Id),
                [new System.Xml.Linq.XElement(ns + "spec", new System.Xml.Linq.XAttribute(xsi + "type", "VirtualMachineConfigSpec"),
                    Option("SET.guest.ipAddress", "10.20.30.40"), Option("SET.guest.toolsRunningStatus", "guestToolsRunning"))], default);

            var viaSoap = (await soap.Inventory.GetVmsAsync()).Single(v => v.Id == vm.Id);
            var viaSsh = (await ssh.Inventory.GetVmsAsync()).Single(v => v.Id == vm.Id);
            Assert.Contains("10.20.30.40", viaSoap.IPAddresses);
            Assert.Equal("Running", viaSoap.ToolsStatus);
            Assert.Equal(Json(viaSoap), Json(viaSsh));
        }
        finally
        {
            await soap.Soap.InvokeTaskAsync(pc, "PowerOffVM_Task", new MoRef("VirtualMachine", vm.Id), [], default);
        }
    }

    [Fact]
    public async Task Soap_vm_discovery_is_one_property_collector_round_trip_once_the_view_exists()
    {
        await using var session = await bed.ConnectAsync(Transport.Soap);
        var client = ((SoapInventory)session.Inventory).Client;
        await session.Inventory.GetVmsAsync(); // makes the container view
        var before = client.Calls.GetValueOrDefault("RetrievePropertiesEx");
        var total = client.Calls.Values.Sum();
        var mark = bed.Calls().Count;

        var vms = await session.Inventory.GetVmsAsync();

        Assert.Equal(TestBed.InitialVms, vms.Count);
        Assert.Equal(before + 1, client.Calls["RetrievePropertiesEx"]);
        Assert.Equal(total + 1, client.Calls.Values.Sum());
        var seen = bed.CallsSince(mark).Where(c => c.Channel == "soap" && !c.Internal).ToList();
        Assert.Equal(["RetrievePropertiesEx"], seen.Select(c => c.Name));
    }

    [Fact]
    public async Task Discovery_over_both_transports_writes_nothing_on_the_host()
    {
        var mark = bed.Calls().Count;
        await using (var soap = await bed.ConnectAsync(Transport.Soap))
        {
            await soap.Inventory.GetVmsAsync();
            await soap.Inventory.GetHostAsync();
        }

        await using (var ssh = await bed.ConnectAsync(Transport.Ssh))
        {
            await ssh.Inventory.GetVmsAsync();
            await ssh.Inventory.GetDatastoresAsync();
        }

        var calls = bed.CallsSince(mark);
        Assert.Contains(calls, c => c.Channel == "ssh" && c.Kind == "exec" && c.Name.StartsWith("vim-cmd vmsvc/get.config", StringComparison.Ordinal));
        Assert.Contains(calls, c => c.Channel == "soap" && c.Name == "RetrievePropertiesEx");
        // Login/Logout change only the session, not the host.
        Assert.DoesNotContain(calls, c => c.Write && c.Name is not ("Login" or "Logout"));
    }

    [Fact]
    public async Task A_free_licensed_host_still_answers_discovery_over_soap()
    {
        bed.Fault("restricted=on");
        try
        {
            await using var session = await bed.ConnectAsync(Transport.Soap);
            var vms = await session.Inventory.GetVmsAsync();
            Assert.Equal(TestBed.InitialVms, vms.Count);
        }
        finally
        {
            bed.ClearFaults();
        }
    }

    [Fact]
    public async Task A_slow_host_gives_the_same_answers()
    {
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var fast = await session.Inventory.GetNetworksAsync();
        bed.Fault("delayMs=150");
        try
        {
            var slow = await session.Inventory.GetNetworksAsync();
            Assert.Equal(Json(fast), Json(slow));
        }
        finally
        {
            bed.ClearFaults();
        }
    }

    [Fact]
    public async Task Auto_falls_back_to_ssh_when_the_api_is_unreachable_and_says_why()
    {
        var profile = bed.Profile() with { SoapPort = FreePort() };
        await using var session = await new Ceso.Engine.Connection.SessionFactory(bed.Home).ConnectAsync(profile);

        Assert.Equal(Transport.Ssh, session.Inventory.Transport);
        Assert.Contains("Could not reach the vSphere API", session.SoapFallbackReason);
        Assert.Equal(TestBed.InitialVms, (await session.Inventory.GetVmsAsync()).Count);
    }

    [Fact]
    public async Task Auto_falls_back_to_ssh_when_the_api_port_swallows_packets()
    {
        // A listener that accepts and never answers: what a firewall that drops packets looks like after the SYN.
        var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        try
        {
            var port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
            var profile = bed.Profile() with { SoapPort = port, ConnectTimeout = TimeSpan.FromSeconds(2) };
            var sw = System.Diagnostics.Stopwatch.StartNew();
            await using var session = await new Ceso.Engine.Connection.SessionFactory(bed.Home).ConnectAsync(profile);

            Assert.Equal(Transport.Ssh, session.Inventory.Transport);
            Assert.NotNull(session.SoapFallbackReason);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"the fallback took {sw.Elapsed}");
        }
        finally
        {
            silent.Stop();
        }
    }

    [Fact]
    public async Task A_wrong_password_is_a_security_error_and_does_not_fall_back()
    {
        var profile = bed.Profile() with { SoapPassword = "wrong" };
        var e = await Assert.ThrowsAsync<VimFaultException>(() => new Ceso.Engine.Connection.SessionFactory(bed.Home).ConnectAsync(profile));
        Assert.Equal("InvalidLogin", e.FaultType);
        Assert.Equal(CesoErrorKind.Security, e.Kind);
    }

    private static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private static string Json<T>(T value) => JsonSerializer.Serialize(value, new JsonSerializerOptions { WriteIndented = true });
}
