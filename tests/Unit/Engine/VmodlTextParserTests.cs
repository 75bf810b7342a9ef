using Ceso.Engine.Vmodl;

namespace Ceso.Tests.Engine;

public class VmodlTextParserTests
{
    private const string Config = """
        Configuration:

        (vim.vm.ConfigInfo) {
           name = "web 01",
           template = false,
           annotation = "line1
        line2 "quoted" and \ end",
           hardware = (vim.vm.VirtualHardware) {
              numCPU = 2,
              memoryMB = 4096,
              device = (vim.vm.device.VirtualDevice) [
                 (vim.vm.device.VirtualDisk) {
                    key = 2000,
                    backing = (vim.vm.device.VirtualDisk.FlatVer2BackingInfo) {
                       fileName = "[datastore 1] web 01/web 01.vmdk",
                       datastore = 'vim.Datastore:datastore1',
                       thinProvisioned = true,
                    },
                    capacityInBytes = 42949672960,
                 },
                 (vim.vm.device.VirtualVmxnet3) {
                    key = 4000,
                    macAddress = "00:50:56:aa:bb:cc",
                    backing = (vim.vm.device.VirtualEthernetCard.NetworkBackingInfo) {
                       deviceName = "VM Network"
                    }
                 }
              ],
           },
           cpuAllocation = <unset>,
           emptyList = (vim.option.OptionValue) [],
        }
        """;

    [Fact]
    public void Parse_reads_nested_objects_arrays_strings_numbers_and_references()
    {
        var n = VmodlTextParser.Parse(Config);

        Assert.Equal("vim.vm.ConfigInfo", n.Type);
        Assert.Equal("web 01", n.String("name"));
        Assert.Equal(false, n.Bool("template"));
        Assert.Equal("line1\nline2 \"quoted\" and \\ end", n.String("annotation"));
        Assert.Equal(2, n.Long("hardware.numCPU"));
        var devices = n.Get("hardware.device")!.AsList();
        Assert.Equal(2, devices.Count);
        Assert.Equal("VirtualDisk", devices[0].ShortType);
        Assert.Equal("[datastore 1] web 01/web 01.vmdk", devices[0].String("backing.fileName"));
        var ds = devices[0].Get("backing.datastore")!;
        Assert.Equal(VmodlKind.Reference, ds.Kind);
        Assert.Equal("vim.Datastore", ds.Type);
        Assert.Equal("datastore1", ds.Scalar);
        Assert.Equal("VM Network", devices[1].String("backing.deviceName"));
        Assert.Null(n.Get("cpuAllocation"));
        Assert.Empty(n.Get("emptyList")!.AsList());
    }

    [Theory]
    [InlineData("(vim.vm.ConfigInfo) {\n   name = \"x\",\n")]
    [InlineData("(vim.vm.ConfigInfo) {\n   name = \"unterminated }x")]
    [InlineData("Failed to connect to the host")]
    public void Parse_rejects_broken_text_with_a_format_error_naming_the_line(string text)
    {
        var e = Assert.ThrowsAny<FormatException>(() => VmodlTextParser.Parse(text + (text.StartsWith('(') ? "" : " {")));
        Assert.Contains("line", e.Message);
    }
}
