using System.Text.Json;
using System.Xml.Linq;
using Ceso.Engine.Hosts;
using Ceso.Engine.Soap;
using Ceso.Engine.Vmodl;

namespace Ceso.Tests.Engine;

/// <summary>The same VM, read as SOAP XML and as vim-cmd text, maps to the same object.</summary>
public class TransportMappingTests
{
    private const string Xsi = "http://www.w3.org/2001/XMLSchema-instance";

    private static VmodlNode Xml(string inner) =>
        XmlToVmodl.Convert(XElement.Parse($"<val xmlns=\"urn:vim25\" xmlns:xsi=\"{Xsi}\" {inner}</val>"));

    [Fact]
    public void A_vm_read_over_soap_and_over_ssh_maps_to_equal_objects()
    {
        var soap = new Dictionary<string, VmodlNode>
        {
            ["name"] = Xml("xsi:type=\"xsd:string\">web 01"),
            ["config.hardware.numCPU"] = Xml("xsi:type=\"xsd:int\">2"),
            ["config.hardware.memoryMB"] = Xml("xsi:type=\"xsd:int\">4096"),
            ["config.uuid"] = Xml("xsi:type=\"xsd:string\">4211-aa"),
            ["runtime.powerState"] = Xml("xsi:type=\"VirtualMachinePowerState\">poweredOn"),
            ["config.hardware.device"] = Xml("""
                xsi:type="ArrayOfVirtualDevice"><VirtualDevice xsi:type="VirtualDisk"><key>2000</key>
                <backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>[datastore1] web 01/web 01.vmdk</fileName><datastore type="Datastore">datastore1</datastore><thinProvisioned>true</thinProvisioned></backing>
                <capacityInBytes>42949672960</capacityInBytes></VirtualDevice>
                <VirtualDevice xsi:type="VirtualVmxnet3"><key>4000</key><backing xsi:type="VirtualEthernetCardNetworkBackingInfo"><deviceName>VM Network</deviceName></backing><macAddress>00:50:56:aa:bb:cc</macAddress></VirtualDevice>
                """),
            ["guest.net"] = Xml("""xsi:type="ArrayOfGuestNicInfo"><GuestNicInfo xsi:type="GuestNicInfo"><ipAddress>10.0.0.5</ipAddress><ipAddress>fd00::5</ipAddress></GuestNicInfo>"""),
            ["snapshot"] = Xml("""xsi:type="VirtualMachineSnapshotInfo"><rootSnapshotList><name>a</name><childSnapshotList><name>b</name></childSnapshotList></rootSnapshotList>"""),
        };
        var config = VmodlTextParser.Parse("""
            (vim.vm.ConfigInfo) {
               name = "web 01",
               uuid = "4211-aa",
               hardware = (vim.vm.VirtualHardware) {
                  numCPU = 2,
                  memoryMB = 4096,
                  device = (vim.vm.device.VirtualDevice) [
                     (vim.vm.device.VirtualDisk) {
                        key = 2000,
                        backing = (vim.vm.device.VirtualDisk.FlatVer2BackingInfo) {
                           fileName = "[datastore1] web 01/web 01.vmdk",
                           datastore = 'vim.Datastore:datastore1',
                           thinProvisioned = true
                        },
                        capacityInBytes = 42949672960
                     },
                     (vim.vm.device.VirtualVmxnet3) {
                        key = 4000,
                        backing = (vim.vm.device.VirtualEthernetCard.NetworkBackingInfo) { deviceName = "VM Network" },
                        macAddress = "00:50:56:aa:bb:cc"
                     }
                  ]
               }
            }
            """);
        var summary = VmodlTextParser.Parse("""(vim.vm.Summary) { runtime = (vim.vm.RuntimeInfo) { powerState = "poweredOn" } }""");
        var guest = VmodlTextParser.Parse("""(vim.vm.GuestInfo) { net = (vim.vm.GuestInfo.NicInfo) [ (vim.vm.GuestInfo.NicInfo) { ipAddress = (string) [ "10.0.0.5", "fd00::5" ] } ] }""");
        var snapshot = VmodlTextParser.Parse("""(vim.vm.SnapshotInfo) { rootSnapshotList = (vim.vm.SnapshotTree) [ (vim.vm.SnapshotTree) { name = "a", childSnapshotList = (vim.vm.SnapshotTree) [ (vim.vm.SnapshotTree) { name = "b", childSnapshotList = (vim.vm.SnapshotTree) [] } ] } ] }""");

        var fromSoap = InventoryMapper.Vm("esx", "vm-1", p => soap.GetValueOrDefault(p));
        var fromSsh = InventoryMapper.Vm("esx", "vm-1", p => p switch
        {
            "name" => config.Get("name"),
            "snapshot" => snapshot,
            _ when p.StartsWith("config.") => config.Get(p[7..]),
            _ when p.StartsWith("runtime.") => summary.Get(p),
            _ when p.StartsWith("guest.") => guest.Get(p[6..]),
            _ => null,
        });

        Assert.Equal(JsonSerializer.Serialize(fromSoap), JsonSerializer.Serialize(fromSsh));
        Assert.Equal("web 01", fromSoap.Name);
        Assert.Equal(Ceso.Engine.Model.CesoPowerState.PoweredOn, fromSoap.PowerState);
        Assert.Equal(40, fromSoap.Disks.Single().CapacityGB);
        Assert.Equal("datastore1", fromSoap.Disks[0].Datastore);
        Assert.Equal(("vmxnet3", "VM Network", "00:50:56:aa:bb:cc"), (fromSoap.Nics[0].AdapterType, fromSoap.Nics[0].Network, fromSoap.Nics[0].MacAddress));
        Assert.Equal(["10.0.0.5", "fd00::5"], fromSoap.IPAddresses);
        Assert.Equal(2, fromSoap.SnapshotCount);
    }
}
