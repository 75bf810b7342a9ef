using Ceso.Engine.Formats;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;

namespace Ceso.Engine.Operations;

/// <summary>Protect-CesoVm / Unprotect-CesoVm: the <see cref="VmxIdentity.ProtectedTag"/> in the VM's notes, through a <see cref="VmxRewrite"/>.</summary>
internal sealed class ProtectVm(OperationContext context)
{
    /// <summary>Plans adding (<paramref name="protect"/>) or removing the tag; an empty plan when it is already so.</summary>
    public async Task<(Plan Plan, CesoVm Vm)> PlanAsync(string vmName, bool protect, CancellationToken ct)
    {
        var host = context.Host;
        var vm = await VmLookup.FindAsync(context, vmName, ct).ConfigureAwait(false);
        var notes = vm.Annotation ?? "";
        var has = notes.Contains(VmxIdentity.ProtectedTag, StringComparison.Ordinal);
        if (has == protect)
        {
            return (context.Plan(protect ? "ProtectVm" : "UnprotectVm", vm.Name, []), vm);
        }

        var newNotes = protect ? (notes.Length == 0 ? VmxIdentity.ProtectedTag : notes + "\n" + VmxIdentity.ProtectedTag)
            : notes.Replace("\n" + VmxIdentity.ProtectedTag, "", StringComparison.Ordinal).Replace(VmxIdentity.ProtectedTag, "", StringComparison.Ordinal);
        // Not refused by the protection itself: this is the one change that lifts it.
        var rewrite = await VmxRewrite.ReadAsync(context, vm, ct).ConfigureAwait(false);
        rewrite.Vmx.Set("annotation", newNotes);
        var step = rewrite.Step($"{(protect ? "Add" : "Remove")} {VmxIdentity.ProtectedTag} in the notes of '{vm.Name}'", $"{host}/{vm.Name}");
        return (context.Plan(protect ? "ProtectVm" : "UnprotectVm", vm.Name, [step]), vm);
    }
}
