using Ceso.Engine;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;

namespace Ceso.Tests.Engine;

/// <summary>The free-license switch: API first, SSH after a refusal, and the session remembers.</summary>
public sealed class FallbackHostCommandsTests
{
    private static readonly DatastorePath Folder = new("datastore1", "web01");

    [Fact]
    public async Task A_host_that_takes_api_writes_runs_the_api_call_and_reports_it()
    {
        var log = new List<string>();
        var license = new FreeLicense();
        var call = new FallbackHostCommands(new RecordingHostCommands("soap", log), new RecordingHostCommands("ssh", log), license).MakeDirectory(Folder);

        await call.Run(CancellationToken.None);

        Assert.Equal(["do mkdir [datastore1] web01 over soap"], log);
        Assert.Equal(new HostCallRun("soap", "mkdir [datastore1] web01(soap)"), call.Ran());
        Assert.Equal("mkdir [datastore1] web01(ssh)", call.FallbackCommand);
        Assert.False(license.Detected);
    }

    [Fact]
    public async Task After_one_refusal_the_session_sends_every_later_call_straight_to_ssh()
    {
        var log = new List<string>();
        var license = new FreeLicense();
        var soap = new CountingRefusals();
        var commands = new FallbackHostCommands(soap, new RecordingHostCommands("ssh", log), license);

        var first = commands.MakeDirectory(Folder);
        await first.Run(CancellationToken.None);
        var later = commands.PowerOn(new VmHandle("web01", "9")); // built and run after the refusal, as the next plan's step
        await later.Run(CancellationToken.None);

        Assert.True(license.Detected);
        Assert.Equal(1, soap.Attempts);
        Assert.Equal(["do mkdir [datastore1] web01 over ssh", "do poweron web01 over ssh"], log);
        Assert.Equal("mkdir [datastore1] web01(soap)", first.Ran().Refused?.Command);
        Assert.Null(later.Ran().Refused);
        Assert.Equal("ssh", later.Ran().Transport);
        Assert.False(commands.SupportsHotAdd); // hot-add has no SSH twin
    }

    [Fact]
    public async Task A_refused_hot_add_fails_clearly_and_the_session_learns_the_free_license()
    {
        var log = new List<string>();
        var license = new FreeLicense();
        var commands = new FallbackHostCommands(new RecordingHostCommands("soap", [], refuse: true), new RecordingHostCommands("ssh", log), license, "esx");
        Assert.True(commands.SupportsHotAdd);

        var e = await Assert.ThrowsAsync<CesoException>(() => commands.HotAdd(new VmHandle("web01", "9"), 4, null).Run(CancellationToken.None));

        Assert.Equal("HotAddNotSupported", e.ErrorId);
        Assert.IsType<VimFaultException>(e.InnerException);
        Assert.Contains("'web01'", e.Message);
        Assert.True(license.Detected);
        Assert.False(commands.SupportsHotAdd); // the next plan refuses before it plans
        Assert.Equal("HotAddNotSupported", Assert.Throws<CesoException>(() => commands.HotAdd(new VmHandle("web01", "9"), 4, null)).ErrorId);
        Assert.Empty(log);
    }

    [Fact]
    public void Hot_add_over_ssh_is_a_clear_not_supported_error()
    {
        var e = Assert.Throws<CesoException>(() => new SshHostCommands(null!, "esx").HotAdd(new VmHandle("web01", "9"), 4, null));

        Assert.Equal("HotAddNotSupported", e.ErrorId);
        Assert.Equal(CesoErrorKind.NotSupported, e.Kind);
        Assert.Contains("'web01'", e.Message);
    }

    [Fact]
    public async Task A_failure_that_is_not_a_refusal_is_not_retried_over_ssh()
    {
        var log = new List<string>();
        var license = new FreeLicense();
        var broken = new HostCall("soap", "MakeDirectory(x)", _ => throw new CesoException("FileAlreadyExists", CesoErrorKind.InvalidState, "exists"));
        var call = new FallbackHostCommands(new RecordingHostCommands("soap", log), new RecordingHostCommands("ssh", log), license)
            .Combine(t => t.Transport == "soap" ? broken : t.MakeDirectory(Folder));

        await Assert.ThrowsAsync<CesoException>(() => call.Run(CancellationToken.None));

        Assert.Empty(log);
        Assert.False(license.Detected);
    }

    /// <summary>API commands that refuse every call and count the attempts.</summary>
    private sealed class CountingRefusals() : IHostCommands
    {
        private readonly RecordingHostCommands _inner = new("soap", [], refuse: true);

        public int Attempts { get; private set; }

        public string Transport => "soap";

        public bool SupportsHotAdd => true;

        private HostCall Count(HostCall c) => c with { Run = ct => { Attempts++; return c.Run(ct); } };

        public HostCall HotAdd(VmHandle vm, int? numCpu, long? memoryMB) => Count(_inner.HotAdd(vm, numCpu, memoryMB));

        public HostCall MakeDirectory(DatastorePath folder) => Count(_inner.MakeDirectory(folder));

        public HostCall DeleteDirectory(DatastorePath folder) => Count(_inner.DeleteDirectory(folder));

        public HostCall CopyDisk(DatastorePath source, DatastorePath target) => Count(_inner.CopyDisk(source, target));

        public HostCall CreateDisk(DatastorePath disk, long capacityBytes) => Count(_inner.CreateDisk(disk, capacityBytes));

        public HostCall ExtendDisk(DatastorePath disk, long capacityBytes) => Count(_inner.ExtendDisk(disk, capacityBytes));

        public HostCall DeleteDisk(DatastorePath disk) => Count(_inner.DeleteDisk(disk));
        public HostCall MoveDisk(DatastorePath source, DatastorePath target) => Count(_inner.MoveDisk(source, target));

        public HostCall WriteFile(DatastorePath file, string content) => Count(_inner.WriteFile(file, content));

        public HostCall Register(DatastorePath vmx, VmHandle vm) => Count(_inner.Register(vmx, vm));

        public HostCall Unregister(VmHandle vm) => Count(_inner.Unregister(vm));

        public HostCall Destroy(VmHandle vm) => Count(_inner.Destroy(vm));

        public HostCall Reload(VmHandle vm) => Count(_inner.Reload(vm));

        public HostCall PowerOn(VmHandle vm) => Count(_inner.PowerOn(vm));

        public HostCall PowerOff(VmHandle vm) => Count(_inner.PowerOff(vm));

        public HostCall Shutdown(VmHandle vm) => Count(_inner.Shutdown(vm));

        public HostCall Reset(VmHandle vm) => Count(_inner.Reset(vm));

        public HostCall CreateSnapshot(VmHandle vm, SnapshotHandle snapshot) => Count(_inner.CreateSnapshot(vm, snapshot));

        public HostCall RemoveSnapshot(VmHandle vm, SnapshotHandle snapshot) => Count(_inner.RemoveSnapshot(vm, snapshot));
    }
}
