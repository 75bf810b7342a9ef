using System.Text;
using System.Xml.Linq;
using Ceso.Engine.Soap;
using Ceso.Engine.Vmodl;

namespace Ceso.Tests.Engine;

/// <summary>The streaming reader of RetrievePropertiesEx answers gives the same trees as the XDocument conversion.</summary>
public sealed class RetrieveResultReaderTests
{
    private const string Answer = """
        <?xml version="1.0" encoding="UTF-8"?>
        <soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
        <soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25"><returnval>
          <objects><obj type="VirtualMachine">vm-9</obj>
            <propSet><name>name</name><val xsi:type="xsd:string">web &amp; "db" 01</val></propSet>
            <propSet><name>runtime.powerState</name><val xsi:type="VirtualMachinePowerState">poweredOn</val></propSet>
            <propSet><name>config.annotation</name><val xsi:type="xsd:string"></val></propSet>
            <propSet><name>config.hardware.device</name><val xsi:type="ArrayOfVirtualDevice">
              <VirtualDevice xsi:type="VirtualDisk"><key>2000</key><deviceInfo><label>Hard disk 1</label><summary>1,048,576 KB</summary></deviceInfo>
                <backing xsi:type="VirtualDiskFlatVer2BackingInfo"><fileName>[datastore1] web/web.vmdk</fileName><datastore type="Datastore">ds-1</datastore><thinProvisioned>true</thinProvisioned></backing>
                <capacityInBytes>1073741824</capacityInBytes></VirtualDevice>
              <VirtualDevice xsi:type="VirtualVmxnet3"><key>4000</key><backing xsi:type="VirtualEthernetCardNetworkBackingInfo"><deviceName>VM Network</deviceName></backing><macAddress>00:50:56:aa:bb:cc</macAddress></VirtualDevice>
            </val></propSet>
            <propSet><name>guest.net</name><val xsi:type="ArrayOfGuestNicInfo"><GuestNicInfo xsi:type="GuestNicInfo"><ipAddress>10.0.0.5</ipAddress><ipAddress>fd00::5</ipAddress><connected>true</connected></GuestNicInfo></val></propSet>
            <propSet><name>snapshot</name><val xsi:type="VirtualMachineSnapshotInfo"><rootSnapshotList><name>a</name><childSnapshotList><name>b</name></childSnapshotList></rootSnapshotList></val></propSet>
            <propSet><name>config.extraConfig</name><val xsi:type="ArrayOfOptionValue"/></propSet>
            <propSet><name>summary.vm</name><val xsi:type="ManagedObjectReference" type="VirtualMachine">vm-9</val></propSet>
            <propSet><name>empty</name><val xsi:type="VirtualMachineBootOptions"/></propSet>
          </objects>
          <objects><obj type="Datastore">ds-1</obj><propSet><name>summary.capacity</name><val xsi:type="xsd:long">4398046511104</val></propSet></objects>
          <token>42</token>
        </returnval></RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>
        """;

    [Fact]
    public void The_streaming_reader_and_the_document_conversion_agree_on_every_value()
    {
        var (objects, token) = RetrieveResultReader.Read(Encoding.UTF8.GetBytes(Answer));

        XNamespace vim = "urn:vim25";
        var expected = XDocument.Parse(Answer).Descendants(vim + "objects").ToList();
        Assert.Equal("42", token);
        Assert.Equal(expected.Count, objects.Count);
        for (var i = 0; i < objects.Count; i++)
        {
            Assert.Equal(expected[i].Element(vim + "obj")!.Value, objects[i].Obj.Value);
            var props = expected[i].Elements(vim + "propSet").ToDictionary(p => p.Element(vim + "name")!.Value, p => XmlToVmodl.Convert(p.Element(vim + "val")!));
            Assert.Equal(props.Keys.Order(), objects[i].Properties.Keys.Order());
            foreach (var (name, node) in props)
            {
                Assert.Equal(Dump(node), Dump(objects[i].Properties[name]));
            }
        }

        Assert.Equal("web & \"db\" 01", objects[0].Properties["name"].Scalar);
        Assert.Equal(2, objects[0].Properties["config.hardware.device"].Items.Count);
    }

    [Fact]
    public void An_answer_without_results_is_empty() =>
        Assert.Empty(RetrieveResultReader.Read(Encoding.UTF8.GetBytes("<Envelope><Body><RetrievePropertiesExResponse xmlns=\"urn:vim25\"/></Body></Envelope>")).Objects);

    private static string Dump(VmodlNode n) => n.Kind switch
    {
        VmodlKind.Object => $"{{{n.Type}|{string.Join(",", n.Fields.Select(f => f.Key + "=" + Dump(f.Value)))}}}",
        VmodlKind.Array => $"[{n.Type}|{string.Join(",", n.Items.Select(Dump))}]",
        VmodlKind.Reference => $"'{n.Type}:{n.Scalar}'",
        VmodlKind.Scalar => $"\"{n.Type}:{n.Scalar}\"",
        _ => "<unset>",
    };
}
