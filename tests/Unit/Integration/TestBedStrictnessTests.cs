using System.Net;
using System.Xml.Linq;
using Ceso.Engine;
using Ceso.Engine.Hosts;
using Ceso.Engine.Shell;
using Ceso.Engine.Soap;

namespace Ceso.Tests.Integration;

/// <summary>
/// The test bed behaves like a real standalone host where vcsim alone would be laxer, and its faults fire on demand;
/// later capabilities (clone, backup) rely on both.
/// </summary>
[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TestBedStrictnessTests(TestBed bed)
{
    private static readonly XNamespace Vim = "urn:vim25";

    [Fact]
    public async Task CloneVM_Task_is_refused_as_standalone_hostd_refuses_it()
    {
        await using var session = await bed.ConnectAsync(Transport.Soap);
        var vm = (await session.Inventory.GetVmsAsync())[0];
        var mark = bed.Calls().Count;

        var e = await Assert.ThrowsAsync<VimFaultException>(() => session.Soap!.InvokeAsync("CloneVM_Task", new MoRef("VirtualMachine", vm.Id),
            [VimClient.RefElement("folder", new MoRef("Folder", "ha-folder-vm")), new XElement(Vim + "name", "copy"), new XElement(Vim + "spec")], default));

        Assert.Equal("NotSupported", e.FaultType);
        Assert.Contains("not supported on the object", e.Message);
        Assert.Equal(TestBed.InitialVms, (await session.Inventory.GetVmsAsync()).Count);
        Assert.Contains(bed.CallsSince(mark), c => c.Name == "CloneVM_Task" && c.Write);
    }

    [Fact]
    public async Task Datastore_http_needs_the_session_cookie_and_serves_the_real_vmx()
    {
        await using var session = await bed.ConnectAsync(Transport.Soap);
        var vm = (await session.Inventory.GetVmsAsync())[0];
        var vmxPath = vm.VmxPath!;
        var rel = vmxPath[(vmxPath.IndexOf(']') + 2)..];
        var url = $"https://{bed.Info.SoapHost}:{bed.Info.SoapPort}/folder/{Uri.EscapeDataString(rel).Replace("%2F", "/")}?dcPath=ha-datacenter&dsName=datastore1";
        using var anonymous = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(url)).StatusCode);

        using var authed = new HttpClient(new HttpClientHandler { CookieContainer = session.Soap!.Cookies, ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
        var vmx = await authed.GetStringAsync(url);
        Assert.Contains($"numvcpus = \"{vm.NumCpu}\"", vmx);
        Assert.Contains($"displayName = \"{vm.Name}\"", vmx);
    }

    [Fact]
    public async Task A_free_license_refuses_soap_writes_but_ssh_still_works()
    {
        bed.Fault("restricted=on");
        try
        {
            await using var session = await bed.ConnectAsync(Transport.Auto);
            var vm = (await session.Inventory.GetVmsAsync())[0];
            var e = await Assert.ThrowsAsync<VimFaultException>(() => session.Soap!.InvokeAsync("PowerOnVM_Task", new MoRef("VirtualMachine", vm.Id), [], default));
            Assert.Equal("RestrictedVersion", e.FaultType);
            Assert.Equal(CesoErrorKind.NotSupported, e.Kind);
            Assert.Equal("VMware vSphere 7 Hypervisor", (await session.Inventory.GetHostAsync()).LicenseEdition);

            var state = await session.Ssh!.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/power.getstate", vm.Id));
            Assert.Equal(0, state.ExitCode);
            Assert.Contains("Powered off", state.Stdout);
        }
        finally
        {
            bed.ClearFaults();
        }
    }

    [Fact]
    public async Task Vmkfstools_clones_real_bytes_thin_and_the_descriptor_is_a_valid_vmdk()
    {
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var vm = (await session.Inventory.GetVmsAsync())[0];
        var src = "/vmfs/volumes/datastore1/" + vm.Disks[0].Path[(vm.Disks[0].Path.IndexOf(']') + 2)..];
        var dst = "/vmfs/volumes/datastore1/ceso-test-copy/copy.vmdk";
        var ssh = session.Ssh!;
        try
        {
            (await ssh.RunAsync(ShellQuote.Join("mkdir", "-p", "/vmfs/volumes/datastore1/ceso-test-copy"))).EnsureSuccess("bed");
            var clone = await ssh.RunAsync(ShellQuote.Join("vmkfstools", "-i", src, "-d", "thin", dst));
            Assert.True(clone.ExitCode == 0, clone.Stderr);

            var same = await ssh.RunAsync(ShellQuote.Join("cmp", src.Replace(".vmdk", "-flat.vmdk"), dst.Replace(".vmdk", "-flat.vmdk")));
            Assert.True(same.ExitCode == 0, "the copy differs from the source: " + same.Stdout + same.Stderr);
            var marker = await ssh.RunAsync("head -c 64 " + ShellQuote.Quote(dst.Replace(".vmdk", "-flat.vmdk")));
            Assert.StartsWith("CESOBED", marker.Stdout);
            var query = await ssh.RunAsync(ShellQuote.Join("vmkfstools", "-q", dst));
            Assert.Equal(0, query.ExitCode);

            var local = Path.Combine(LocalDir(), "ceso-test-copy", "copy.vmdk");
            var info = TestBed.Run("qemu-img", ["info", "--output=json", local]);
            Assert.True(info.Code == 0, "qemu-img rejects the descriptor: " + info.Output);
            Assert.Contains($"\"virtual-size\": {vm.Disks[0].CapacityBytes}", info.Output);
        }
        finally
        {
            await ssh.RunAsync(ShellQuote.Join("rm", "-rf", "/vmfs/volumes/datastore1/ceso-test-copy"));
        }
    }

    [Fact]
    public async Task A_full_datastore_fails_disk_creation_and_shell_writes_with_no_space()
    {
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var ssh = session.Ssh!;
        bed.Fault("datastoreFull=datastore1");
        try
        {
            var create = await ssh.RunAsync(ShellQuote.Join("vmkfstools", "-c", "1G", "-d", "thin", "/vmfs/volumes/datastore1/full.vmdk"));
            Assert.NotEqual(0, create.ExitCode);
            Assert.Contains("not enough space", create.Stdout + create.Stderr);

            var write = await ssh.RunAsync("head -c 1048576 /dev/zero > /vmfs/volumes/datastore1/full.bin");
            Assert.NotEqual(0, write.ExitCode);
            Assert.Contains("No space left", write.Stderr);
        }
        finally
        {
            bed.ClearFaults();
            await ssh.RunAsync("rm -f /vmfs/volumes/datastore1/full.bin /vmfs/volumes/datastore1/full.vmdk /vmfs/volumes/datastore1/full-flat.vmdk");
        }

        var ok = await ssh.RunAsync("head -c 4096 /dev/zero > /vmfs/volumes/datastore1/after.bin && rm /vmfs/volumes/datastore1/after.bin");
        Assert.Equal(0, ok.ExitCode);
    }

    [Fact]
    public async Task A_snapshot_failure_fault_fails_snapshot_creation_and_leaves_no_snapshot()
    {
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var vm = (await session.Inventory.GetVmsAsync())[0];
        bed.Fault("snapshotFailure=on");
        try
        {
            var r = await session.Ssh!.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.create", vm.Id, "ceso-test"));
            Assert.NotEqual(0, r.ExitCode);
        }
        finally
        {
            bed.ClearFaults();
        }

        var again = (await session.Inventory.GetVmsAsync()).Single(v => v.Id == vm.Id);
        Assert.Equal(0, again.SnapshotCount);
    }

    [Fact]
    public async Task Removing_snapshots_never_deletes_the_vms_disks_as_vcsim_would()
    {
        // vcsim deletes files by stale layout keys; a host only consolidates the snapshot. Two snapshots, then both
        // removals (one by id, then all): every disk file is still there with its bytes.
        await using var session = await bed.ConnectAsync(Transport.Ssh);
        var ssh = session.Ssh!;
        var vm = (await session.Inventory.GetVmsAsync()).First(v => v.Disks.Count > 0);
        var folder = "/vmfs/volumes/" + vm.VmxPath!.Replace("[", "", StringComparison.Ordinal).Replace("] ", "/", StringComparison.Ordinal);
        folder = folder[..folder.LastIndexOf('/')];
        var before = (await ssh.RunAsync(ShellQuote.Join("sh", "-c", "cd \"$1\" && ls | grep -v vmsn | xargs md5sum", "sh", folder))).EnsureSuccess("bed").Stdout;
        foreach (var name in new[] { "guard-a", "guard-b" })
        {
            (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.create", vm.Id, name))).EnsureSuccess("bed");
        }

        var tree = (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.get", vm.Id))).Stdout;
        (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.remove", vm.Id, Ceso.Engine.Hosts.SshHostCommands.SnapshotIdOf(tree, "guard-b")!))).EnsureSuccess("bed");
        (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.removeall", vm.Id))).EnsureSuccess("bed");

        var after = (await ssh.RunAsync(ShellQuote.Join("sh", "-c", "cd \"$1\" && ls | grep -v vmsn | xargs md5sum", "sh", folder))).EnsureSuccess("bed").Stdout;
        Assert.Equal(before, after);
        Assert.Equal(0, (await session.Inventory.GetVmsAsync()).Single(v => v.Id == vm.Id).SnapshotCount);
    }

    [Fact]
    public async Task Registering_a_vmx_gives_a_vm_whose_hardware_and_guestinfo_are_what_the_vmx_says()
    {
        await using var ssh = await bed.ConnectAsync(Transport.Ssh);
        await using var soap = await bed.ConnectAsync(Transport.Soap);
        var dir = "/vmfs/volumes/datastore1/ceso-reg";
        var vmx = $"""
            .encoding = "UTF-8"
            config.version = "8"
            virtualHW.version = "19"
            displayName = "ceso reg"
            guestOS = "ubuntu-64"
            numvcpus = "3"
            memSize = "3072"
            firmware = "efi"
            scsi0.present = "TRUE"
            scsi0.virtualDev = "pvscsi"
            scsi0:0.present = "TRUE"
            scsi0:0.fileName = "reg.vmdk"
            ethernet0.present = "TRUE"
            ethernet0.virtualDev = "e1000e"
            ethernet0.networkName = "VM Network"
            ethernet0.addressType = "static"
            ethernet0.address = "00:50:56:01:02:03"
            guestinfo.metadata = "e30="
            guestinfo.metadata.encoding = "base64"
            """;
        string? vmid = null;
        try
        {
            (await ssh.Ssh!.RunAsync(ShellQuote.Join("mkdir", "-p", dir))).EnsureSuccess("bed");
            (await ssh.Ssh.RunAsync(ShellQuote.Join("vmkfstools", "-c", "2G", "-d", "thin", dir + "/reg.vmdk"))).EnsureSuccess("bed");
            (await ssh.Ssh.RunAsync("printf '%s\\n' " + ShellQuote.Quote(vmx) + " > " + ShellQuote.Quote(dir + "/reg.vmx"))).EnsureSuccess("bed");
            var reg = (await ssh.Ssh.RunAsync(ShellQuote.Join("vim-cmd", "solo/registervm", dir + "/reg.vmx", "ceso reg"))).EnsureSuccess("bed");
            vmid = reg.Stdout.Trim();

            var vm = (await soap.Inventory.GetVmsAsync()).Single(v => v.Name == "ceso reg");
            Assert.Equal(3, vm.NumCpu);
            Assert.Equal(3072, vm.MemoryMB);
            Assert.Equal("efi", vm.Firmware);
            Assert.Equal(2L << 30, vm.Disks.Single().CapacityBytes);
            Assert.Equal(("e1000e", "VM Network", "00:50:56:01:02:03"), (vm.Nics.Single().AdapterType, vm.Nics[0].Network, vm.Nics[0].MacAddress));
            var json = System.Text.Json.JsonSerializer.Serialize(vm);
            Assert.Equal(json, System.Text.Json.JsonSerializer.Serialize((await ssh.Inventory.GetVmsAsync()).Single(v => v.Name == "ceso reg")));
            var config = await ssh.Ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/get.config", vmid));
            Assert.Contains("guestinfo.metadata", config.Stdout);
        }
        finally
        {
            if (vmid is not null)
            {
                await ssh.Ssh!.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/unregister", vmid));
            }

            await ssh.Ssh!.RunAsync(ShellQuote.Join("rm", "-rf", dir));
        }

        Assert.Equal(TestBed.InitialVms, (await soap.Inventory.GetVmsAsync()).Count);
    }

    private string LocalDir() => bed.Info.Datastores.Single(d => d.Name == "datastore1").LocalDir;
}
