using Ceso.Engine.Formats;
using Ceso.Engine.Model;

namespace Ceso.Engine.Planning.Actions;

/// <summary>
/// What a plan step does to the host, as data: a kind (the record's type) with typed arguments and nothing else — no
/// code, no state. <see cref="PlanInterpreter"/> renders it (the exact SSH command or SOAP call, for -WhatIf and the
/// digest) and runs it against the session's host adapter; what a run learns (a new VM's id, a snapshot's id, whether
/// it made a lock) lives in that run's <see cref="RunBindings"/>, never in the plan. So a plan can be previewed,
/// digested, approved and run — and run again — and the run executes exactly the actions the digest covers.
/// </summary>
public abstract record StepAction;

/// <summary>A VM an action refers to: by name, with its vmid when the plan knows it (a VM the plan registers learns it in the run).</summary>
/// <param name="Name">The VM's name.</param>
/// <param name="Id">Its vmid, or null for a VM the plan has not registered yet.</param>
public sealed record VmRef(string Name, string? Id = null)
{
    /// <summary>The reference of a VM read from the host.</summary>
    public static VmRef Of(CesoVm vm) => new(vm.Name, vm.Id);
}

/// <summary>A snapshot the plan makes, by the name unique to the plan (its id is learnt in the run).</summary>
/// <param name="Name">The snapshot's name.</param>
public sealed record SnapshotRef(string Name);

/// <summary>Creates a folder on a datastore.</summary>
public sealed record MakeDirectory(DatastorePath Folder) : StepAction;

/// <summary>Deletes a folder and everything in it.</summary>
public sealed record DeleteDirectory(DatastorePath Folder) : StepAction;

/// <summary>Copies a virtual disk, thin provisioned.</summary>
public sealed record CopyDisk(DatastorePath Source, DatastorePath Target) : StepAction;

/// <summary>Creates an empty thin virtual disk.</summary>
public sealed record CreateDisk(DatastorePath Disk, long CapacityBytes) : StepAction;

/// <summary>Grows a virtual disk.</summary>
public sealed record ExtendDisk(DatastorePath Disk, long CapacityBytes) : StepAction;

/// <summary>Deletes a virtual disk (descriptor and extents).</summary>
public sealed record DeleteDisk(DatastorePath Disk) : StepAction;

/// <summary>Renames a virtual disk; refused when the target exists.</summary>
public sealed record MoveDisk(DatastorePath Source, DatastorePath Target) : StepAction;

/// <summary>Writes a small text file (a .vmx); the digest covers the content's hash, the command shows a placeholder.</summary>
public sealed record WriteFile(DatastorePath File, string Content) : StepAction;

/// <summary>
/// Writes a registered VM's .vmx and reloads the VM; when the reload fails, <paramref name="Previous"/> is written back
/// (and reloaded) before the error goes up, so a failed step never leaves a changed .vmx behind.
/// </summary>
public sealed record RewriteVmx(DatastorePath Vmx, string Content, string Previous, VmRef Vm) : StepAction;

/// <summary>Registers a .vmx; the run learns the VM's id.</summary>
public sealed record Register(DatastorePath Vmx, VmRef Vm) : StepAction;

/// <summary>Unregisters a VM, keeping its files.</summary>
public sealed record Unregister(VmRef Vm) : StepAction;

/// <summary>Unregisters a VM and deletes its files.</summary>
public sealed record Destroy(VmRef Vm) : StepAction;

/// <summary>Re-reads a VM's .vmx after it was edited.</summary>
public sealed record Reload(VmRef Vm) : StepAction;

/// <summary>Powers on.</summary>
public sealed record PowerOn(VmRef Vm) : StepAction;

/// <summary>Powers off at once (no guest shutdown).</summary>
public sealed record PowerOff(VmRef Vm) : StepAction;

/// <summary>Hard reset.</summary>
public sealed record Reset(VmRef Vm) : StepAction;

/// <summary>Asks the guest to shut down and waits until the VM is off; fails (never forcing power-off) after <paramref name="WaitOff"/>.</summary>
public sealed record Shutdown(VmRef Vm, TimeSpan WaitOff) : StepAction;

/// <summary>
/// Removes a disposable VM whatever state it was left in: powered off if it runs, destroyed (hostd deletes its files)
/// if the host lists it, and its folder deleted if anything is left (a half-made copy, a serial log). Finds out what
/// is there first, so it is safe after a step that failed or was cancelled half-way.
/// </summary>
public sealed record DiscardVm(VmRef Vm, DatastorePath Folder) : StepAction;

/// <summary>Takes a snapshot without memory or quiescing; the run learns its id.</summary>
public sealed record CreateSnapshot(VmRef Vm, SnapshotRef Snapshot) : StepAction;

/// <summary>Removes exactly the snapshot the plan made (by its id, else by its unique name); never "remove all".</summary>
public sealed record RemoveSnapshot(VmRef Vm, SnapshotRef Snapshot) : StepAction;

/// <summary>Hot-adds CPUs and/or memory to a running VM (null = unchanged).</summary>
public sealed record HotAdd(VmRef Vm, int? NumCpu, long? MemoryMB) : StepAction;

/// <summary>Sets who may reach a firewall ruleset, starting from <paramref name="Current"/>.</summary>
public sealed record SetRulesetAllowlist(CesoFirewallRuleset Current, bool AllowAll, IReadOnlyList<string> Entries) : StepAction;

/// <summary>
/// Takes a lock that is a folder (mkdir is atomic on VMFS); the run records whether it made it. A folder that is there
/// already fails with <c>HotCopyLocked</c>.
/// </summary>
public sealed record TakeLock(DatastorePath Folder) : StepAction;

/// <summary>Releases the lock <see cref="TakeLock"/> took in the same run: removes the folder only when that run made it.</summary>
public sealed record ReleaseLock(DatastorePath Folder) : StepAction;

/// <summary>Several actions that run as one, in order, on one transport (all over SSH when the API refuses the first).</summary>
public sealed record Sequence(IReadOnlyList<StepAction> Actions) : StepAction;

/// <summary>
/// Records <paramref name="Identities"/> (BIOS UUIDs, MACs) as issued by this installation, then runs
/// <paramref name="Then"/> — recorded also when that fails, since the bytes may have landed.
/// </summary>
public sealed record RecordIdentities(IReadOnlyList<string> Identities, StepAction Then) : StepAction;

/// <summary>
/// Runs <paramref name="Then"/> only when the change step titled <paramref name="Step"/> completed in this run; otherwise
/// nothing (the cleanup that deletes the old disks of an in-place restore once the restored ones are in place).
/// </summary>
public sealed record IfCompleted(string Step, StepAction Then) : StepAction;

/// <summary>An undo with nothing to do of its own: an earlier step's undo removes it (a file in a new folder).</summary>
public sealed record CoveredBy(string How) : StepAction;

/// <summary>
/// A secret an action carries (a new account's password): never in any text — its canonical text (the digest) and its
/// ToString are a placeholder, so re-planning with a new random password gives the same digest.
/// </summary>
/// <param name="Value">The secret.</param>
public sealed record Secret(string Value)
{
    /// <inheritdoc />
    public override string ToString() => "<redacted>";
}

/// <summary>Creates an ESXi local user without shell access (the agent accounts).</summary>
public sealed record CreateHostUser(string User, string Description, Secret Password) : StepAction;

/// <summary>Removes an ESXi local user.</summary>
public sealed record RemoveHostUser(string User) : StepAction;

/// <summary>Adds a role with these privileges; the run learns its id for the permissions that follow.</summary>
public sealed record AddHostRole(string Role, IReadOnlyList<string> Privileges) : StepAction;

/// <summary>
/// Gives <paramref name="User"/> <paramref name="Role"/> on <paramref name="Entity"/>; <paramref name="RoleId"/> is the
/// role's id when the plan knows it, null when an <see cref="AddHostRole"/> of the same run makes the role.
/// </summary>
public sealed record SetHostPermission(Hosts.PermissionEntity Entity, string User, string Role, int? RoleId, bool Propagate) : StepAction;

/// <summary>Removes the permission <paramref name="User"/> has on <paramref name="Entity"/>.</summary>
public sealed record RemoveHostPermission(Hosts.PermissionEntity Entity, string User) : StepAction;

/// <summary>Runs one shell command line on the host over SSH, as written (every argument quoted by ShellQuote when it was made).</summary>
public sealed record RunShell(string Command) : StepAction;
