using Ceso.Engine;
using Ceso.Engine.Connection;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;

namespace Ceso.PowerShell;

/// <summary>
/// -IPPool of New-, Copy-, Restore- and Set-CesoVm: an address from a pool for one VM, taken just before its plan runs
/// and given back when the plan does not run or fails.
/// </summary>
public abstract partial class CesoCmdlet
{
    /// <summary>
    /// The address for <paramref name="vmName"/> from <paramref name="pool"/>. The address a lease would take is
    /// offered to ShouldProcess first (target the pool, action "Lease ADDRESS for 'VM' on SERVER"): under -WhatIf that
    /// peek is returned (not leased) so the plan can be previewed with it; when approved the address is leased in
    /// the store's transaction (under concurrency it may be another one than the peek). Null (an error was written,
    /// or the lease was declined at -Confirm) means: plan nothing.
    /// </summary>
    protected CesoIPPoolAddress? TakePoolAddress(CesoSession session, string pool, string vmName, object? target, out AddressLeasing leasing)
    {
        var lease = leasing = new AddressLeasing(session, Home);
        if (!TryRunEngine(ct => lease.PeekAsync(pool, ct), target, out var peek))
        {
            return null;
        }

        switch (Ask($"IP pool '{peek.Pool}'", $"Lease {peek.Cidr} for '{vmName}' on {session.Server}"))
        {
            case StepAnswer.WhatIf:
                // Beside the What-if line, so scripts and agents that read the information stream see it too.
                WriteInformation($"Note: would lease {peek.Cidr} from IP pool '{peek.Pool}' for '{vmName}' (a peek: nothing is leased)", ["Ceso", "PlanNote"]);
                return peek;
            case StepAnswer.Declined:
                return null;
        }

        if (!TryRunEngine(ct => lease.LeaseAsync(pool, vmName, null, ct), target, out var leased))
        {
            return null;
        }

        if (leased.IPAddress != peek.IPAddress)
        {
            WriteVerbose($"{peek.IPAddress} was taken meanwhile; leased {leased.Cidr} from pool '{leased.Pool}' for '{vmName}'.");
        }
        else
        {
            WriteVerbose($"Leased {leased} for '{vmName}'.");
        }

        return leased;
    }

    /// <summary>
    /// After the plan: a lease whose plan did not run (declined, failed and undone, nothing to do) is released; one
    /// whose plan ran gets the VM's id. A peek has nothing to settle.
    /// </summary>
    protected void SettlePoolAddress(AddressLeasing leasing, CesoIPPoolAddress? address, PlanOutcome outcome, string? vmId, object? target)
    {
        if (address is not { Leased: true })
        {
            return;
        }

        if (outcome != PlanOutcome.Executed)
        {
            if (TryRunEngine(ct => leasing.ReleaseAsync(address, ct), target, out _))
            {
                WriteVerbose($"Released {address} again: the plan did not run to its end.");
            }

            return;
        }

        if (vmId is not null)
        {
            TryRunEngine(async ct => { await leasing.RecordVmIdAsync(address, vmId, ct).ConfigureAwait(false); return true; }, target, out _);
        }
    }

    /// <summary>Refuses -IPPool together with -IPAddress: the pool gives the address.</summary>
    protected bool CheckPoolOrAddress(string? pool, string[]? ipAddress, object? target)
    {
        if (pool is null || ipAddress is not { Length: > 0 })
        {
            return true;
        }

        WriteEngineError(new CesoException("IPPoolAndIPAddress", CesoErrorKind.InvalidArgument,
            $"-IPPool '{pool}' gives the address; -IPAddress gives one too. Give one of them.") { Target = pool }, target);
        return false;
    }
}
