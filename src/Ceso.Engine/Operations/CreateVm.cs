using Ceso.Engine.Configuration;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;

namespace Ceso.Engine.Operations;

/// <summary>
/// New-CesoVm: a copy of a powered-off template (<see cref="VmCopy"/>) with its own identity and guestinfo. The
/// template is a name from the registry in config.yaml (which names a VM) or a VM itself.
/// </summary>
internal sealed class CreateVm(OperationContext context, VmGuards guards)
{
    /// <summary>Plans the create; -Template is a name from the template registry (config.yaml) or a VM.</summary>
    public async Task<(Plan Plan, VmHandle Vm)> PlanAsync(CreateVmRequest r, CancellationToken ct)
    {
        var host = context.Host;
        var vms = await context.Session.Inventory.GetVmsAsync(ct).ConfigureAwait(false);
        // A name from the template registry (config.yaml) stands for a registered VM; otherwise -Template is a VM.
        var entry = CesoConfig.Load(context.Home).Template(r.Template, host);
        if (entry is not null && !vms.Any(v => v.Name == entry.Vm || v.Id == entry.Vm))
        {
            throw new CesoException("TemplateNotFound", CesoErrorKind.NotFound,
                $"{CesoConfig.PathOf(context.Home)} says template '{r.Template}' is VM '{entry.Vm}', but {host} has no such VM. Fix the entry or register the VM.")
            { Target = r.Template, Host = host };
        }

        var template = VmLookup.Find(vms, entry?.Vm ?? r.Template, "TemplateNotFound", "template", host);
        if (template.PowerState != CesoPowerState.PoweredOff)
        {
            throw context.Invalid("TemplatePoweredOn", $"Template '{template.Name}' is {template.PowerState}; a template must be powered off so its disks can be copied. Stop it first, or use Copy-CesoVm -Hot.", r.Template);
        }

        var (plan, vm) = await new VmCopy(context, guards).PlanAsync(
            new CopySpec("CreateVm", template, vms, r.Name, r.Guest, r.Datastore, r.Network, r.NumCpu, r.MemoryMB, r.DiskGB, Hot: false, r.PowerOn), ct).ConfigureAwait(false);
        return entry is null ? (plan, vm)
            : (plan with { Notes = [$"template '{r.Template}' is VM '{entry.Vm}' ({CesoConfig.PathOf(context.Home)})", .. plan.Notes] }, vm);
    }
}
