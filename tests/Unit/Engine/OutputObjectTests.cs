using System.Text.Json;
using Ceso.Engine.Model;

namespace Ceso.Tests.Engine;

public sealed class OutputObjectTests
{
    private static CesoVm Vm() => new()
    {
        Server = "esx01", Id = "7", Name = "web01", PowerState = CesoPowerState.PoweredOff, NumCpu = 2, MemoryMB = 4096,
        Disks =
        [
            new CesoVmDisk { Index = 0, Path = "[datastore1] web01/web01.vmdk", Datastore = "datastore1", CapacityBytes = 16L << 30, Thin = true },
            new CesoVmDisk { Index = 1, Path = "[datastore1] web01/web01_1.vmdk", Datastore = "datastore1", CapacityBytes = 1536L << 20, Thin = false },
        ],
        Nics = [new CesoVmNic { Index = 0, AdapterType = "vmxnet3", MacAddress = "00:50:56:12:34:56", Network = "VM Network" }],
    };

    [Fact]
    public void A_vm_serialises_its_power_state_as_a_name()
    {
        var json = JsonSerializer.Serialize(Vm());
        Assert.Contains("\"PowerState\":\"PoweredOff\"", json);
    }

    [Fact]
    public void Disks_and_nics_print_as_one_readable_line_each()
    {
        var vm = Vm();
        Assert.Equal("0: [datastore1] web01/web01.vmdk 16 GB thin", vm.Disks[0].ToString());
        Assert.Equal("1: [datastore1] web01/web01_1.vmdk 1.5 GB thick", vm.Disks[1].ToString());
        Assert.Equal("0: vmxnet3 00:50:56:12:34:56 on VM Network", vm.Nics[0].ToString());
        Assert.Equal("0: e1000e (no MAC yet), not connected", new CesoVmNic { Index = 0, AdapterType = "e1000e" }.ToString());
    }

    [Fact]
    public void The_documented_power_states_are_the_only_ones()
    {
        Assert.Equal(["Unknown", "PoweredOff", "PoweredOn", "Suspended"], CesoPowerState.All);
    }
}
