using Ceso.Engine.Connection;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Shell;

namespace Ceso.Tests.Integration;

/// <summary>
/// The one conformance suite of <see cref="IHostCommands"/>: the same tests over SOAP, over SSH, and over the
/// free-license decorator on a host that refuses the API's writes (<c>restricted=on</c>). Each test checks the host
/// state (the datastore directory behind the host and the inventory) against one expected value, so every
/// implementation leaves the host in the same state.
/// </summary>
public abstract class HostCommandsConformance(TestBed bed, Transport transport, bool freeLicense) : IAsyncLifetime
{
    private CesoSession _session = null!;
    private string _folder = null!;
    private int _mark;
    private readonly List<VmHandle> _registered = [];

    private IHostCommands Commands => _session.Host.Commands;

    private string LocalDir => bed.Info.Datastores[0].LocalDir;

    private DatastorePath Folder => new("datastore1", _folder);

    private DatastorePath Ds(string name) => Folder.Child(name);

    private string Local(string name = "") => Path.Combine(LocalDir, _folder, name);

    public async Task InitializeAsync()
    {
        _session = await bed.ConnectAsync(transport);
        _folder = $"cmds-{(freeLicense ? "free" : transport.ToString().ToLowerInvariant())}-{Guid.NewGuid():N}"[..24];
        if (freeLicense)
        {
            bed.Fault("restricted=on");
        }

        _mark = bed.Calls().Count;
    }

    public async Task DisposeAsync()
    {
        if (freeLicense)
        {
            bed.ClearFaults();
        }

        await using (var ssh = await bed.ConnectAsync(Transport.Ssh))
        {
            foreach (var vm in _registered.Where(v => v.Id is not null))
            {
                await ssh.Ssh!.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/power.off", vm.Id!));
                await ssh.Ssh!.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/unregister", vm.Id!));
            }
        }

        await _session.DisposeAsync();
        if (Directory.Exists(Local()))
        {
            Directory.Delete(Local(), recursive: true);
        }
    }

    private Task RunAsync(HostCall call) => call.Run(CancellationToken.None);

    /// <summary>The folder's files (with sizes for extents) and the test's VMs (name, power, snapshots), as one text.</summary>
    private async Task<string> HostStateAsync()
    {
        var files = Directory.Exists(Local())
            ? string.Join(",", Directory.GetFiles(Local()).Select(f => Path.GetFileName(f) + (f.EndsWith("-flat.vmdk", StringComparison.Ordinal) ? ":" + new FileInfo(f).Length : "")).Order())
            : "<no folder>";
        await using var ssh = await bed.ConnectAsync(Transport.Ssh);
        var vms = (await ssh.Inventory.GetVmsAsync()).Where(v => v.Name.StartsWith(_folder, StringComparison.Ordinal))
            .Select(v => $"{v.Name}:{v.PowerState}:{v.SnapshotCount}");
        return files + " | " + string.Join(",", vms);
    }

    /// <summary>SOAP wrote nothing over SSH and SSH nothing over the API; the decorator tried the API once (refused), then only SSH.</summary>
    private void AssertTransports()
    {
        var calls = bed.CallsSince(_mark).Where(c => c.Write && !c.Internal && c.Name is not ("Login" or "Logout")).ToList();
        var api = calls.Where(c => c.Channel is "soap" or "http").ToList();
        var ssh = calls.Where(c => c.Channel == "ssh").ToList();
        if (freeLicense)
        {
            Assert.IsType<FallbackHostCommands>(Commands);
            Assert.True(api.Count <= 1, "the API was tried again after a refusal: " + string.Join("; ", api.Select(c => c.Name)));
            Assert.All(api, c => Assert.NotNull(c.Fault));
            Assert.True(_session.Host.FreeLicense.Detected); // the host state above was made over SSH
        }
        else if (transport == Transport.Ssh)
        {
            Assert.Empty(api);
        }
        else
        {
            Assert.Empty(ssh);
        }
    }

    private string Vmx(string name) => string.Join("\n",
        ".encoding = \"UTF-8\"", "config.version = \"8\"", "virtualHW.version = \"19\"", $"displayName = \"{name}\"",
        "guestOS = \"ubuntu-64\"", "memSize = \"256\"", "numvcpus = \"1\"", "");

    private async Task<VmHandle> RegisterAsync()
    {
        var name = _folder + "-vm";
        await RunAsync(Commands.MakeDirectory(Folder));
        await RunAsync(Commands.WriteFile(Ds(name + ".vmx"), Vmx(name)));
        var vm = new VmHandle(name);
        _registered.Add(vm);
        await RunAsync(Commands.Register(Ds(name + ".vmx"), vm));
        return vm;
    }

    [Fact]
    public async Task Make_and_delete_a_folder()
    {
        await RunAsync(Commands.MakeDirectory(Folder));
        Assert.Equal(" | ", await HostStateAsync());
        Assert.True(Directory.Exists(Local()));

        await RunAsync(Commands.DeleteDirectory(Folder));

        Assert.Equal("<no folder> | ", await HostStateAsync());
        AssertTransports();
    }

    [Fact]
    public async Task Create_extend_and_delete_a_thin_disk()
    {
        var disk = Ds("data.vmdk");
        await RunAsync(Commands.MakeDirectory(Folder));

        await RunAsync(Commands.CreateDisk(disk, 8 << 20));
        Assert.Equal("data-flat.vmdk:8388608,data.vmdk | ", await HostStateAsync());
        await RunAsync(Commands.ExtendDisk(disk, 16 << 20));
        Assert.Equal("data-flat.vmdk:16777216,data.vmdk | ", await HostStateAsync());
        await RunAsync(Commands.DeleteDisk(disk));

        Assert.Equal(" | ", await HostStateAsync());
        AssertTransports();
    }

    [Fact]
    public async Task Write_a_small_file_replacing_what_was_there()
    {
        await RunAsync(Commands.MakeDirectory(Folder));
        await RunAsync(Commands.WriteFile(Ds("a.vmx"), "first\n"));

        await RunAsync(Commands.WriteFile(Ds("a.vmx"), "displayName = \"café 'x' $HOME\"\n"));

        Assert.Equal("displayName = \"café 'x' $HOME\"\n", await File.ReadAllTextAsync(Local("a.vmx")));
        Assert.Equal("a.vmx | ", await HostStateAsync());
        AssertTransports();
    }

    [Fact]
    public async Task Register_and_unregister_keeping_the_files()
    {
        var vm = await RegisterAsync();
        Assert.NotNull(vm.Id);
        Assert.Contains($"{vm.Name}:{CesoPowerState.PoweredOff}:0", await HostStateAsync());

        await RunAsync(Commands.Unregister(vm));

        Assert.EndsWith(" | ", await HostStateAsync());
        Assert.True(File.Exists(Local(vm.Name + ".vmx")));
        AssertTransports();
    }

    [Fact]
    public async Task Power_on_and_off()
    {
        var vm = await RegisterAsync();

        await RunAsync(Commands.PowerOn(vm));
        Assert.EndsWith($" | {vm.Name}:{CesoPowerState.PoweredOn}:0", await HostStateAsync());
        await RunAsync(Commands.PowerOff(vm));

        Assert.EndsWith($" | {vm.Name}:{CesoPowerState.PoweredOff}:0", await HostStateAsync());
        AssertTransports();
    }

    [Fact]
    public async Task Removing_the_snapshot_ceso_made_leaves_the_users_snapshot()
    {
        var vm = await RegisterAsync();
        var users = new SnapshotHandle("users-own");
        var cesos = new SnapshotHandle("ceso-copy-" + Guid.NewGuid().ToString("N")[..8]);
        await RunAsync(Commands.CreateSnapshot(vm, users));
        await RunAsync(Commands.CreateSnapshot(vm, cesos));
        Assert.EndsWith($" | {vm.Name}:{CesoPowerState.PoweredOff}:2", await HostStateAsync());

        await RunAsync(Commands.RemoveSnapshot(vm, cesos));

        Assert.EndsWith($" | {vm.Name}:{CesoPowerState.PoweredOff}:1", await HostStateAsync());
        await using var ssh = await bed.ConnectAsync(Transport.Ssh);
        var tree = (await ssh.Ssh!.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.get", vm.Id!))).Stdout;
        Assert.Contains("users-own", tree);
        Assert.DoesNotContain(cesos.Name, tree);
        AssertTransports();
    }

    [Fact]
    public async Task A_snapshot_whose_id_was_never_learnt_is_removed_by_its_unique_name_and_one_never_made_is_nothing_to_do()
    {
        var vm = await RegisterAsync();
        var name = "ceso-copy-" + Guid.NewGuid().ToString("N")[..8];
        await RunAsync(Commands.CreateSnapshot(vm, new SnapshotHandle("users-own")));
        await RunAsync(Commands.CreateSnapshot(vm, new SnapshotHandle(name)));

        // As after a snapshot step that failed or was cancelled once hostd had made it: only the name is known.
        var cut = new SnapshotHandle(name);
        await RunAsync(Commands.RemoveSnapshot(vm, cut));
        Assert.False(cut.Absent);
        Assert.EndsWith($" | {vm.Name}:{CesoPowerState.PoweredOff}:1", await HostStateAsync());

        var never = new SnapshotHandle(name);
        var call = Commands.RemoveSnapshot(vm, never);
        await RunAsync(call);
        Assert.True(never.Absent);
        Assert.StartsWith("nothing to remove:", call.Ran().Command);
        Assert.EndsWith($" | {vm.Name}:{CesoPowerState.PoweredOff}:1", await HostStateAsync()); // the user's stays

        // Two of that name: Ceso cannot tell which is its own and removes neither.
        await using var ssh = await bed.ConnectAsync(Transport.Ssh);
        for (var i = 0; i < 2; i++)
        {
            (await ssh.Ssh!.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.create", vm.Id!, name, "twin", "0", "0"))).EnsureSuccess("bed");
        }

        var e = await Assert.ThrowsAnyAsync<Ceso.Engine.CesoException>(() => RunAsync(Commands.RemoveSnapshot(vm, new SnapshotHandle(name))));
        Assert.Equal("SnapshotAmbiguous", e.ErrorId);
        Assert.EndsWith($" | {vm.Name}:{CesoPowerState.PoweredOff}:3", await HostStateAsync());
    }
}

[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SoapHostCommandsTests(TestBed bed) : HostCommandsConformance(bed, Transport.Soap, freeLicense: false);

[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SshHostCommandsTests(TestBed bed) : HostCommandsConformance(bed, Transport.Ssh, freeLicense: false);

/// <summary>The free-license decorator on a host that refuses the API's writes: the same host state as over SSH.</summary>
[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class FreeLicenseHostCommandsTests(TestBed bed) : HostCommandsConformance(bed, Transport.Auto, freeLicense: true);
