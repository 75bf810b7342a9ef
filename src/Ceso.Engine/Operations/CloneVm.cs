using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;

namespace Ceso.Engine.Operations;

/// <summary>Copy-CesoVm: a copy of a VM with a new identity (<see cref="VmCopy"/>); of a running one through a <see cref="HotCopy"/>.</summary>
internal sealed class CloneVm(OperationContext context, VmGuards guards)
{
    /// <summary>Plans the clone: cold for a powered-off source; -Hot copies a running source through a temporary snapshot.</summary>
    public async Task<(Plan Plan, VmRef Vm)> PlanAsync(CloneVmRequest r, CancellationToken ct)
    {
        var vms = await context.Session.Inventory.GetVmsAsync(ct).ConfigureAwait(false);
        var source = VmLookup.Find(vms, r.Source, "VmNotFound", "VM", context.Host);
        if (!r.Hot && source.PowerState != CesoPowerState.PoweredOff)
        {
            throw context.Invalid("VmPoweredOn", $"'{source.Name}' is {source.PowerState}; a cold copy needs it powered off. Stop it, or add -Hot to copy it running through a temporary snapshot.", r.Source);
        }

        // -Hot on a powered-off (or suspended) source is a cold copy: there is nothing running to snapshot around.
        var hot = r.Hot && source.PowerState == CesoPowerState.PoweredOn;
        if (hot)
        {
            // A hot copy changes the source: a snapshot taken and consolidated, a lock folder beside its .vmx.
            guards.CheckNotProtected(source, "take a hot-copy snapshot of");
        }

        return await new VmCopy(context, guards).PlanAsync(
            new CopySpec("CloneVm", source, vms, r.Name, r.Guest, r.Datastore, null, null, null, null, hot, r.PowerOn), ct).ConfigureAwait(false);
    }
}
