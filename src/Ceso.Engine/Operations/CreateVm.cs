using Ceso.Engine.Configuration;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;

namespace Ceso.Engine.Operations;

/// <summary>
/// New-CesoVm: a copy of a powered-off template (<see cref="VmCopy"/>) with its own identity and guestinfo. The
/// template is a name from the registry in config.yaml (which names a VM) or a VM itself.
/// </summary>
internal sealed class CreateVm(OperationContext context, VmGuards guards)
{
    /// <summary>Plans the create; -Template is a name from the template registry (config.yaml) or a VM.</summary>
    public async Task<(Plan Plan, VmRef Vm)> PlanAsync(CreateVmRequest r, CancellationToken ct)
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

        // The registry's defaults stand in for parameters the request left out; a parameter given always wins.
        var (numCpu, memoryMB, diskGB, network) = (r.NumCpu ?? entry?.NumCpu, r.MemoryMB ?? entry?.MemoryMB, r.DiskGB ?? entry?.DiskGB, r.Network ?? entry?.Network);
        var defaults = new List<string>();
        if (r.NumCpu is null && entry?.NumCpu is { } cpu)
        {
            defaults.Add($"{cpu} vCPU");
        }

        if (r.MemoryMB is null && entry?.MemoryMB is { } mb)
        {
            defaults.Add($"{mb} MB memory");
        }

        if (r.DiskGB is null && entry?.DiskGB is { } gb)
        {
            defaults.Add($"first disk {gb} GB");
        }

        if (r.Network is null && entry?.Network is { } net)
        {
            defaults.Add($"network '{net}'");
        }

        var (plan, vm) = await new VmCopy(context, guards).PlanAsync(
            new CopySpec("CreateVm", template, vms, r.Name, r.Guest, r.Datastore, network, numCpu, memoryMB, diskGB, Hot: false, r.PowerOn), ct).ConfigureAwait(false);
        if (entry is null)
        {
            return (plan, vm);
        }

        var path = CesoConfig.PathOf(context.Home);
        List<string> notes = [$"template '{r.Template}' is VM '{entry.Vm}' ({path})"];
        if (defaults.Count > 0)
        {
            // Also on the step that writes the .vmx (where they land), so -WhatIf shows them on its line.
            var note = $"from the template registry ({path}, template '{r.Template}'): {string.Join(", ", defaults)}; a parameter given overrides them";
            notes.Add(note);
            var vmxStep = plan.Steps.FirstOrDefault(s => s.Notes.Count > 0);
            plan = plan with { Steps = plan.Steps.Select(s => ReferenceEquals(s, vmxStep) ? s with { Notes = [note, .. s.Notes] } : s).ToList() };
        }

        return (plan with { Notes = [.. notes, .. plan.Notes] }, vm);
    }
}
