using Ceso.Engine;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Planning;

namespace Ceso.Tests.Engine;

/// <summary>
/// A narrow unit seam: host commands whose calls only log "do NAME" (or, <paramref name="refuse"/>, answer every call
/// as a free-licensed host does), so the decorator and the executor can be tested without a host.
/// </summary>
internal sealed class RecordingHostCommands(string transport, List<string> log, bool refuse = false) : IHostCommands
{
    public string Transport => transport;

    public bool SupportsHotAdd => transport == "soap";

    public HostCall Do(string name) => new(transport, $"{name}({transport})", _ =>
    {
        if (refuse)
        {
            throw new VimFaultException("RestrictedVersion", "Current license or ESXi version prohibits execution of the requested operation.", name);
        }

        log.Add($"do {name} over {transport}");
        return Task.CompletedTask;
    });

    public HostCall HotAdd(VmHandle vm, int? numCpu, long? memoryMB) => Do("hotadd");

    public HostCall MakeDirectory(DatastorePath folder) => Do("mkdir " + folder);

    public HostCall DeleteDirectory(DatastorePath folder) => Do("rmdir " + folder);

    public HostCall CopyDisk(DatastorePath source, DatastorePath target) => Do("copy " + target);

    public HostCall CreateDisk(DatastorePath disk, long capacityBytes) => Do("create " + disk);

    public HostCall ExtendDisk(DatastorePath disk, long capacityBytes) => Do("extend " + disk);

    public HostCall DeleteDisk(DatastorePath disk) => Do("delete " + disk);
    public HostCall MoveDisk(DatastorePath source, DatastorePath target) => Do($"move {source} {target}");

    public HostCall WriteFile(DatastorePath file, string content) => Do("write " + file);

    public HostCall Register(DatastorePath vmx, VmHandle vm) => Do("register " + vm.Name);

    public HostCall Unregister(VmHandle vm) => Do("unregister " + vm.Name);

    public HostCall Destroy(VmHandle vm) => Do("destroy " + vm.Name);

    public HostCall Reload(VmHandle vm) => Do("reload " + vm.Name);

    public HostCall PowerOn(VmHandle vm) => Do("poweron " + vm.Name);

    public HostCall PowerOff(VmHandle vm) => Do("poweroff " + vm.Name);

    public HostCall Shutdown(VmHandle vm) => Do("shutdown " + vm.Name);

    public HostCall Reset(VmHandle vm) => Do("reset " + vm.Name);

    public HostCall CreateSnapshot(VmHandle vm, SnapshotHandle snapshot) => Do("snapshot " + vm.Name);

    public HostCall RemoveSnapshot(VmHandle vm, SnapshotHandle snapshot) => Do("unsnapshot " + vm.Name);

    /// <summary>A plan step of one host call and its undo, made as the VM operations make them.</summary>
    public static PlanStep Step(string title, HostCall call, HostCall? undo = null) => new()
    {
        Title = title,
        Target = "esx",
        Transport = call.Transport,
        Command = call.Command,
        FallbackCommand = call.FallbackCommand,
        Ran = call.Ran,
        Execute = call.Run,
        UndoCommand = undo?.Command,
        Undo = undo?.Run,
        UndoRan = undo is null ? null : undo.Ran,
    };
}
