using Ceso.Engine.Connection;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;

namespace Ceso.Engine.Operations;

/// <summary>
/// The VM lifecycle as front ends call it: one method per operation, each handing the request to its own type
/// (<see cref="CreateVm"/>, <see cref="CloneVm"/>, <see cref="ReconfigureVm"/>, <see cref="PowerVm"/>,
/// <see cref="RemoveVm"/>, <see cref="ProtectVm"/>), which reads and checks everything first, so bad input fails
/// before any change, and returns the Plan. The session's host adapter chooses the transport (API writes that switch
/// to SSH on a free license, or SSH alone); each step carries both texts when there are two. This type holds no
/// logic of its own.
/// </summary>
public sealed class VmOperations
{
    private readonly OperationContext _context;
    private readonly VmGuards _guards;

    /// <summary>Creates the operations for a session; its host adapter says which transport runs what.</summary>
    public VmOperations(CesoSession session, CesoHome home)
    {
        _context = new OperationContext(session, home);
        _guards = new VmGuards(_context);
    }

    /// <summary>How long a guest shutdown may take before Stop-CesoVm gives up (it never forces power-off by itself).</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Plans New-CesoVm.</summary>
    public Task<(Plan Plan, VmRef Vm)> PlanCreateAsync(CreateVmRequest r, CancellationToken ct = default) =>
        new CreateVm(_context, _guards).PlanAsync(r, ct);

    /// <summary>Plans Copy-CesoVm.</summary>
    public Task<(Plan Plan, VmRef Vm)> PlanCloneAsync(CloneVmRequest r, CancellationToken ct = default) =>
        new CloneVm(_context, _guards).PlanAsync(r, ct);

    /// <summary>
    /// Plans Set-CesoVm: the VM's .vmx is rewritten (the old one is the undo) and reloaded, new disks are created
    /// thin, and disks grow last (growing cannot be undone). The VM must be powered off, except for raising CPUs or
    /// memory with hot-add enabled.
    /// </summary>
    public Task<(Plan Plan, CesoVm Vm)> PlanReconfigureAsync(ReconfigureRequest r, CancellationToken ct = default) =>
        new ReconfigureVm(_context, _guards).PlanAsync(r, ct);

    /// <summary>Plans a power change.</summary>
    public Task<(Plan Plan, CesoVm Vm)> PlanPowerAsync(string vmName, PowerAction action, CancellationToken ct = default) =>
        new PowerVm(_context, _guards, ShutdownTimeout).PlanAsync(vmName, action, ct);

    /// <summary>Plans Remove-CesoVm: the VM must be powered off; files are deleted unless <paramref name="keepFiles"/>.</summary>
    public Task<(Plan Plan, CesoVm Vm)> PlanRemoveAsync(string vmName, bool keepFiles, CancellationToken ct = default) =>
        new RemoveVm(_context, _guards).PlanAsync(vmName, keepFiles, ct);

    /// <summary>Plans Protect-CesoVm / Unprotect-CesoVm: the tag in the VM's notes.</summary>
    public Task<(Plan Plan, CesoVm Vm)> PlanProtectionAsync(string vmName, bool protect, CancellationToken ct = default) =>
        new ProtectVm(_context).PlanAsync(vmName, protect, ct);

    /// <summary>
    /// Reads a VM again after a plan ran. A vmid (digits, as hostd's ids are) is read alone first, so re-reading the
    /// VM a plan made, or polling one during a shutdown, does not list every VM over SSH; a name, or an id the host
    /// does not know, is looked up in the listing as before.
    /// </summary>
    public Task<CesoVm?> RefreshAsync(string nameOrId, CancellationToken ct = default) =>
        VmLookup.RefreshAsync(_context.Session.Inventory, nameOrId, ct);

    /// <summary>
    /// Reads the VM until VMware Tools report an IP address: found by name or id once, then polled by its id (over SSH a
    /// poll then reads that VM alone). Returns the VM with its addresses; <see cref="IpWaitTimeoutException"/> when
    /// <paramref name="timeout"/> passes first; <c>VmNotFound</c> when the host stops listing it.
    /// </summary>
    public Task<CesoVm> WaitForIpAsync(string nameOrId, TimeSpan timeout, IProgress<IpWaitProgress>? progress = null,
        CancellationToken ct = default, TimeSpan? pollInterval = null) =>
        new WaitForIp(_context).WaitAsync(nameOrId, timeout, progress, ct, pollInterval);

    /// <summary>Refuses to change the power state of a protected VM, naming the action in words.</summary>
    public void CheckNotProtected(CesoVm vm, PowerAction action) => _guards.CheckNotProtected(vm, action);

    /// <summary>Refuses to change a protected VM, naming the protection and how to lift it.</summary>
    public void CheckNotProtected(CesoVm vm, string action) => _guards.CheckNotProtected(vm, action);
}
