using Ceso.Engine.Model;

namespace Ceso.Engine.Operations;

/// <summary>How far a wait for a guest's IP address is (for a progress bar).</summary>
/// <param name="Vm">The VM as last read.</param>
/// <param name="Elapsed">Time waited so far.</param>
/// <param name="Timeout">The whole time allowed.</param>
public sealed record IpWaitProgress(CesoVm Vm, TimeSpan Elapsed, TimeSpan Timeout);

/// <summary>No IP address was reported in time; carries the VM as last read.</summary>
public sealed class IpWaitTimeoutException(CesoVm lastSeen, TimeSpan timeout)
    : CesoException("IpWaitTimeout", CesoErrorKind.InvalidState,
        $"'{lastSeen.Name}' reported no IP address within {timeout.TotalSeconds:0} s (last seen {lastSeen.PowerState}, tools {lastSeen.ToolsStatus}). VMware Tools (open-vm-tools) must run in the guest to report it; check the console, or wait longer with -TimeoutSec.")
{
    /// <summary>The VM as it was last read.</summary>
    public CesoVm LastSeen { get; } = lastSeen;
}

/// <summary>Waiting for a guest to report an IP address (New/Copy/Start-CesoVm -WaitForIp), polled by the VM's id.</summary>
internal sealed class WaitForIp(OperationContext context)
{
    /// <summary>
    /// Reads the VM until VMware Tools report an IP address: found by name or id once, then polled by its id (over SSH a
    /// poll then reads that VM alone). Returns the VM with its addresses; <see cref="IpWaitTimeoutException"/> when
    /// <paramref name="timeout"/> passes first; <c>VmNotFound</c> when the host stops listing it.
    /// </summary>
    public async Task<CesoVm> WaitAsync(string nameOrId, TimeSpan timeout, IProgress<IpWaitProgress>? progress, CancellationToken ct, TimeSpan? pollInterval)
    {
        var poll = pollInterval ?? TimeSpan.FromSeconds(3);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var key = nameOrId;
        while (true)
        {
            var vm = await VmLookup.RefreshAsync(context.Session.Inventory, key, ct).ConfigureAwait(false)
                ?? throw new CesoException("VmNotFound", CesoErrorKind.NotFound,
                    $"'{nameOrId}' is no longer listed by {context.Host} while waiting for its IP address; run Get-CesoVm to see the host's inventory.") { Target = nameOrId, Host = context.Host };
            if (vm.IPAddresses.Count > 0)
            {
                return vm;
            }

            key = vm.Id;
            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new IpWaitTimeoutException(vm, timeout) { Target = nameOrId, Host = context.Host };
            }

            progress?.Report(new IpWaitProgress(vm, clock.Elapsed, timeout));
            await Task.Delay(left < poll ? left : poll, ct).ConfigureAwait(false);
        }
    }
}
