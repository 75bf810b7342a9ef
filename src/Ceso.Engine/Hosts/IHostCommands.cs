using Ceso.Engine.Formats;
using Ceso.Engine.Model;

namespace Ceso.Engine.Hosts;

/// <summary>
/// One change on the host over one transport: the exact command (or SOAP call) it sends, and how to send it.
/// Plans are made of these, so -WhatIf shows exactly what the real run sends.
/// </summary>
/// <param name="Transport">ssh or soap.</param>
/// <param name="Describe">The command line as sent, or the SOAP method with its arguments; evaluated again after a
/// run, so that ids learnt on the way (a new VM's vmid) appear in the audit log instead of a placeholder.</param>
/// <param name="Run">Sends it.</param>
public sealed record HostCall(string Transport, Func<string> Describe, Func<CancellationToken, Task> Run)
{
    /// <summary>A call whose text is fixed.</summary>
    public HostCall(string transport, string command, Func<CancellationToken, Task> run)
        : this(transport, () => command, run)
    {
    }

    /// <summary>The command as it reads now.</summary>
    public string Command => Describe();

    /// <summary>What the call uploads (a .vmx), for the plan's digest.</summary>
    public string? Payload { get; init; }

    /// <summary>The same call reporting percent done while it runs (long disk copies), when the transport can tell.</summary>
    public Func<IProgress<int>, CancellationToken, Task>? RunWithProgress { get; init; }

    /// <summary>
    /// The text of the call that runs instead when the host refuses this one (a free license refusing the API writes,
    /// <see cref="FallbackHostCommands"/>); null when there is none. Shown with the command in -WhatIf.
    /// </summary>
    public Func<string>? DescribeFallback { get; init; }

    /// <summary>The fallback's command as it reads now, or null.</summary>
    public string? FallbackCommand => DescribeFallback?.Invoke();

    /// <summary>How the last run went when that can differ from this call as planned (it ran its fallback); null = as planned.</summary>
    public Func<HostCallRun?>? LastRun { get; init; }

    /// <summary>What ran the last time (or will run): the transport and command, and the call the host refused first.</summary>
    public HostCallRun Ran() => LastRun?.Invoke() ?? new HostCallRun(Transport, Command);
}

/// <summary>What a <see cref="HostCall"/> sent when it ran.</summary>
/// <param name="Transport">ssh or soap.</param>
/// <param name="Command">The command as sent (ids learnt on the way filled in).</param>
/// <param name="Refused">The call the host refused before this one ran instead (the API call on a free license), or null.</param>
/// <param name="RefusedBecause">The host's answer to the refused call.</param>
public sealed record HostCallRun(string Transport, string Command, HostCallRun? Refused = null, string? RefusedBecause = null);

/// <summary>A VM id that becomes known while a plan runs (after registration).</summary>
public sealed class VmHandle(string name, string? id = null)
{
    /// <summary>The VM's name.</summary>
    public string Name { get; } = name;

    /// <summary>The vmid once known.</summary>
    public string? Id { get; set; } = id;

    /// <summary>The id, or a placeholder for -WhatIf text.</summary>
    public string Display => Id ?? $"<vmid of '{Name}'>";

    /// <summary>The id; throws if the VM is not registered yet (a plan-ordering bug).</summary>
    public string Required => Id ?? throw new InvalidOperationException($"VM '{Name}' has no id yet.");
}

/// <summary>A snapshot Ceso makes while a plan runs: a name unique to the plan, and its id once the host has made it.</summary>
public sealed class SnapshotHandle(string name)
{
    /// <summary>The snapshot's name, unique enough that Ceso never mistakes a user's snapshot for its own.</summary>
    public string Name { get; } = name;

    /// <summary>The id vim-cmd uses (<c>Snapshot Id</c> of <c>vmsvc/snapshot.get</c>), once known.</summary>
    public string? SshId { get; set; }

    /// <summary>The API's managed object id (VirtualMachineSnapshot), once known.</summary>
    public string? SoapRef { get; set; }

    /// <summary>
    /// Set by a removal that found no snapshot of this name (and no id was known): it was never made (the snapshot step
    /// failed or was cancelled before hostd made it), so there was nothing to remove.
    /// </summary>
    public bool Absent { get; set; }

    /// <summary>A placeholder for -WhatIf text until the host has made the snapshot.</summary>
    public string Placeholder => $"<id of snapshot '{Name}'>";
}

/// <summary>The host changes Ceso's plans are built from, over one transport (SSH: vim-cmd/vmkfstools; SOAP: the vSphere API).</summary>
public interface IHostCommands
{
    /// <summary>ssh or soap (the transport tried first).</summary>
    string Transport { get; }

    /// <summary>
    /// Whether <see cref="HotAdd"/> can work: only the API raises CPUs or memory of a running VM (there is no vim-cmd
    /// for it), so false over SSH and once a free license has refused the API's writes.
    /// </summary>
    bool SupportsHotAdd { get; }

    /// <summary>
    /// Hot-adds CPUs and/or memory to a running VM whose hot-add is enabled (null = unchanged). Throws a
    /// <c>HotAddNotSupported</c> CesoException when <see cref="SupportsHotAdd"/> is false.
    /// </summary>
    HostCall HotAdd(VmHandle vm, int? numCpu, long? memoryMB);

    /// <summary>
    /// A call made of several of these calls (write a .vmx, then reload the VM) that runs on one transport as a whole:
    /// <paramref name="build"/> gets the commands of one transport. For a single transport that is <c>build(this)</c>;
    /// <see cref="FallbackHostCommands"/> builds it over both, so the whole runs over SSH when the API refuses it.
    /// </summary>
    HostCall Combine(Func<IHostCommands, HostCall> build) => build(this);

    /// <summary>Creates a folder on a datastore.</summary>
    HostCall MakeDirectory(DatastorePath folder);

    /// <summary>Deletes a folder and everything in it.</summary>
    HostCall DeleteDirectory(DatastorePath folder);

    /// <summary>Copies a virtual disk, thin provisioned.</summary>
    HostCall CopyDisk(DatastorePath source, DatastorePath target);

    /// <summary>Creates an empty thin virtual disk.</summary>
    HostCall CreateDisk(DatastorePath disk, long capacityBytes);

    /// <summary>Grows a virtual disk.</summary>
    HostCall ExtendDisk(DatastorePath disk, long capacityBytes);

    /// <summary>Deletes a virtual disk (descriptor and extents).</summary>
    HostCall DeleteDisk(DatastorePath disk);

    /// <summary>Renames a virtual disk (descriptor and extent, the descriptor's extent line rewritten); refused when the target exists.</summary>
    HostCall MoveDisk(DatastorePath source, DatastorePath target);

    /// <summary>Writes a small text file (a .vmx).</summary>
    HostCall WriteFile(DatastorePath file, string content);

    /// <summary>Registers a .vmx; sets the handle's id.</summary>
    HostCall Register(DatastorePath vmx, VmHandle vm);

    /// <summary>Unregisters a VM, keeping its files.</summary>
    HostCall Unregister(VmHandle vm);

    /// <summary>Unregisters a VM and deletes its files.</summary>
    HostCall Destroy(VmHandle vm);

    /// <summary>Re-reads a VM's .vmx after it was edited.</summary>
    HostCall Reload(VmHandle vm);

    /// <summary>Powers on.</summary>
    HostCall PowerOn(VmHandle vm);

    /// <summary>Powers off at once (no guest shutdown).</summary>
    HostCall PowerOff(VmHandle vm);

    /// <summary>Asks the guest to shut down (VMware Tools).</summary>
    HostCall Shutdown(VmHandle vm);

    /// <summary>Hard reset.</summary>
    HostCall Reset(VmHandle vm);

    /// <summary>Creates a snapshot without memory or quiescing and learns its id (sets it on the handle).</summary>
    HostCall CreateSnapshot(VmHandle vm, SnapshotHandle snapshot);

    /// <summary>
    /// Removes exactly the snapshot Ceso made (consolidating it into its parent), found by its id, or — when the id is
    /// not known (made over the other transport, or the step that made it failed or was cancelled) — by its unique
    /// name: none of that name is nothing to do (<see cref="SnapshotHandle.Absent"/>), more than one is an error.
    /// Never "remove all": the users' own snapshots stay.
    /// </summary>
    HostCall RemoveSnapshot(VmHandle vm, SnapshotHandle snapshot);

    /// <summary>
    /// Sets who may reach a firewall ruleset: any address (<paramref name="allowAll"/>) or only <paramref name="entries"/>
    /// (addresses and CIDR networks, normalized), starting from <paramref name="current"/> (the SSH twin is a diff of it).
    /// </summary>
    HostCall SetFirewallAllowlist(CesoFirewallRuleset current, bool allowAll, IReadOnlyList<string> entries) =>
        throw new NotSupportedException($"{Transport} cannot change the host firewall.");
}
