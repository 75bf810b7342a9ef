using Ceso.Engine.Formats;

namespace Ceso.Engine.Hosts;

/// <summary>
/// The free-license switch as a decorator: every call is the <paramref name="primary"/> (API) call carrying its
/// <paramref name="fallback"/> (SSH) twin, both texts shown by -WhatIf. A run sends the API call; when the host refuses
/// it (<see cref="FreeLicense.IsRefusal"/>), it sends the SSH call instead and the session remembers
/// (<paramref name="license"/>), so its later calls go straight to SSH. <see cref="HostCall.Ran"/> tells what ran and
/// which call was refused first, for the audit log.
/// </summary>
/// <param name="primary">The API's commands.</param>
/// <param name="fallback">Their SSH twins.</param>
/// <param name="license">What the session has learnt about the host's license.</param>
/// <param name="host">The host's name, for errors.</param>
public sealed class FallbackHostCommands(IHostCommands primary, IHostCommands fallback, FreeLicense license, string host = "the host") : IHostCommands
{
    /// <inheritdoc />
    public string Transport => primary.Transport;

    /// <summary>Hot-add has no SSH twin: it works while the API takes writes.</summary>
    public bool SupportsHotAdd => primary.SupportsHotAdd && !license.Detected;

    /// <inheritdoc />
    /// <remarks>
    /// A hot-add the host refuses (<see cref="FreeLicense.IsRefusal"/>) has no twin to run instead, so it fails — as
    /// <c>HotAddNotSupported</c>, with the host's answer inside — but the session learns the license like any other
    /// refusal: the next plan of the session refuses hot-add before it plans (<see cref="SupportsHotAdd"/>) and sends
    /// its writes straight to SSH.
    /// </remarks>
    public HostCall HotAdd(VmHandle vm, int? numCpu, long? memoryMB)
    {
        if (license.Detected)
        {
            throw SshHostCommands.HotAddNotSupported(host, vm.Name, "on this host's license (it refuses the API's changes)");
        }

        var call = primary.HotAdd(vm, numCpu, memoryMB);
        async Task RunAsync(Func<Task> run)
        {
            try
            {
                await run().ConfigureAwait(false);
            }
            catch (Exception e) when (FreeLicense.IsRefusal(e))
            {
                license.Remember();
                throw new CesoException("HotAddNotSupported", CesoErrorKind.NotSupported,
                    $"{host} refused to hot-add CPUs or memory to '{vm.Name}' ({e.Message}): its license does not allow changes over the API, and there is " +
                    $"no other way to hot-add. Stop the VM (Stop-CesoVm '{vm.Name}') and change it while it is off; this session now plans that way.", e)
                { Host = host, Target = vm.Name };
            }
        }

        return call with
        {
            Run = ct => RunAsync(() => call.Run(ct)),
            RunWithProgress = (progress, ct) => RunAsync(() => call.RunWithProgress is { } p ? p(progress, ct) : call.Run(ct)),
        };
    }

    /// <inheritdoc />
    public HostCall Combine(Func<IHostCommands, HostCall> build) => Either(build(primary), build(fallback));

    /// <inheritdoc />
    public HostCall MakeDirectory(DatastorePath folder) => Combine(t => t.MakeDirectory(folder));

    /// <inheritdoc />
    public HostCall DeleteDirectory(DatastorePath folder) => Combine(t => t.DeleteDirectory(folder));

    /// <inheritdoc />
    public HostCall CopyDisk(DatastorePath source, DatastorePath target) => Combine(t => t.CopyDisk(source, target));

    /// <inheritdoc />
    public HostCall CreateDisk(DatastorePath disk, long capacityBytes) => Combine(t => t.CreateDisk(disk, capacityBytes));

    /// <inheritdoc />
    public HostCall ExtendDisk(DatastorePath disk, long capacityBytes) => Combine(t => t.ExtendDisk(disk, capacityBytes));

    /// <inheritdoc />
    public HostCall DeleteDisk(DatastorePath disk) => Combine(t => t.DeleteDisk(disk));

    /// <inheritdoc />
    public HostCall MoveDisk(DatastorePath source, DatastorePath target) => Combine(t => t.MoveDisk(source, target));

    /// <inheritdoc />
    public HostCall WriteFile(DatastorePath file, string content) => Combine(t => t.WriteFile(file, content));

    /// <inheritdoc />
    public HostCall Register(DatastorePath vmx, VmHandle vm) => Combine(t => t.Register(vmx, vm));

    /// <inheritdoc />
    public HostCall Unregister(VmHandle vm) => Combine(t => t.Unregister(vm));

    /// <inheritdoc />
    public HostCall Destroy(VmHandle vm) => Combine(t => t.Destroy(vm));

    /// <inheritdoc />
    public HostCall Reload(VmHandle vm) => Combine(t => t.Reload(vm));

    /// <inheritdoc />
    public HostCall SetFirewallAllowlist(Model.CesoFirewallRuleset current, bool allowAll, IReadOnlyList<string> entries) =>
        Combine(t => t.SetFirewallAllowlist(current, allowAll, entries));

    /// <inheritdoc />
    public HostCall PowerOn(VmHandle vm) => Combine(t => t.PowerOn(vm));

    /// <inheritdoc />
    public HostCall PowerOff(VmHandle vm) => Combine(t => t.PowerOff(vm));

    /// <inheritdoc />
    public HostCall Shutdown(VmHandle vm) => Combine(t => t.Shutdown(vm));

    /// <inheritdoc />
    public HostCall Reset(VmHandle vm) => Combine(t => t.Reset(vm));

    /// <inheritdoc />
    public HostCall CreateSnapshot(VmHandle vm, SnapshotHandle snapshot) => Combine(t => t.CreateSnapshot(vm, snapshot));

    /// <inheritdoc />
    public HostCall RemoveSnapshot(VmHandle vm, SnapshotHandle snapshot) => Combine(t => t.RemoveSnapshot(vm, snapshot));

    private HostCall Either(HostCall first, HostCall instead)
    {
        var last = new LastRunState();

        async Task RunAsync(Func<HostCall, Task> run)
        {
            last.Refused = null;
            last.Reason = null;
            last.UsedFallback = false;
            if (!license.Detected)
            {
                try
                {
                    await run(first).ConfigureAwait(false);
                    return;
                }
                catch (Exception e) when (FreeLicense.IsRefusal(e))
                {
                    // Free license: the API reads but refuses writes; the same change works over SSH.
                    license.Remember();
                    last.Refused = first.Ran();
                    last.Reason = e.Message;
                }
            }

            last.UsedFallback = true;
            await run(instead).ConfigureAwait(false);
        }

        return new HostCall(first.Transport, first.Describe, ct => RunAsync(c => c.Run(ct)))
        {
            RunWithProgress = (progress, ct) => RunAsync(c => c.RunWithProgress is { } withProgress ? withProgress(progress, ct) : c.Run(ct)),
            DescribeFallback = instead.Describe,
            Payload = first.Payload,
            LastRun = () => last.UsedFallback ? instead.Ran() with { Refused = last.Refused, RefusedBecause = last.Reason } : first.Ran(),
        };
    }

    private sealed class LastRunState
    {
        public bool UsedFallback { get; set; }

        public HostCallRun? Refused { get; set; }

        public string? Reason { get; set; }
    }
}
