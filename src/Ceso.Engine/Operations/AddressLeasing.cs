using System.Net;
using Ceso.Engine.Connection;
using Ceso.Engine.Model;
using Ceso.Engine.State;

namespace Ceso.Engine.Operations;

/// <summary>
/// Addresses from IP pools for VMs on one session's host (-IPPool of New-, Copy-, Restore- and Set-CesoVm): the host's
/// VMs are read first (the addresses VMware Tools report and those their guestinfo gives the guest), then the pool
/// store picks the lowest address that is neither leased, reserved nor used on the host, in one transaction. A peek
/// (-WhatIf) picks the same way and takes nothing.
/// </summary>
public sealed class AddressLeasing
{
    private readonly CesoSession _session;

    /// <summary>Leasing for VMs of <paramref name="session"/>'s host, in the pools of <paramref name="home"/>.</summary>
    public AddressLeasing(CesoSession session, CesoHome home)
    {
        _session = session;
        Store = new IpPoolStore(home);
    }

    /// <summary>The pool store.</summary>
    public IpPoolStore Store { get; }

    /// <summary>The address a lease would take now; nothing is taken.</summary>
    public async Task<CesoIPPoolAddress> PeekAsync(string pool, CancellationToken ct = default)
    {
        await Store.GetAsync(pool, ct).ConfigureAwait(false); // IPPoolNotFound before the host is read
        var used = await UsedOnHostAsync(ct).ConfigureAwait(false);
        return await Store.PeekAsync(pool, used, ct).ConfigureAwait(false);
    }

    /// <summary>Leases the next free address for <paramref name="vmName"/> on this host.</summary>
    public async Task<CesoIPPoolAddress> LeaseAsync(string pool, string vmName, string? vmId = null, CancellationToken ct = default)
    {
        await Store.GetAsync(pool, ct).ConfigureAwait(false);
        var used = await UsedOnHostAsync(ct).ConfigureAwait(false);
        return await Store.LeaseAsync(pool, used, _session.Server, vmName, vmId, ct).ConfigureAwait(false);
    }

    /// <summary>Gives a lease back (its plan did not run, or failed and was undone).</summary>
    public Task<bool> ReleaseAsync(CesoIPPoolAddress address, CancellationToken ct = default) =>
        Store.ReleaseAsync(address.Pool, address.IPAddress, ct);

    /// <summary>Records the id of the VM a lease is for, once the VM exists.</summary>
    public Task RecordVmIdAsync(CesoIPPoolAddress address, string vmId, CancellationToken ct = default) =>
        Store.SetVmIdAsync(address.Pool, address.IPAddress, vmId, ct);

    /// <summary>
    /// Releases the leases of a VM of this host (it was removed, or re-addressed: then <paramref name="except"/> is
    /// the address it keeps).
    /// </summary>
    public Task<IReadOnlyList<CesoIPLease>> ReleaseVmAsync(string vmName, string? vmId, string? except = null, CancellationToken ct = default) =>
        Store.ReleaseVmAsync(_session.Server, vmName, vmId, except, ct);

    /// <summary>Every address a VM of the list reports or carries in its guestinfo network config.</summary>
    public static IReadOnlyList<IPAddress> UsedBy(IEnumerable<CesoVm> vms) =>
        vms.SelectMany(v => v.IPAddresses.Concat(v.GuestInfoIPAddresses))
            .Select(a => IPAddress.TryParse(a.Split('/')[0], out var ip) ? ip : null)
            .OfType<IPAddress>()
            .Distinct()
            .ToList();

    private async Task<IReadOnlyList<IPAddress>> UsedOnHostAsync(CancellationToken ct) =>
        UsedBy(await _session.Inventory.GetVmsAsync(ct).ConfigureAwait(false));
}
