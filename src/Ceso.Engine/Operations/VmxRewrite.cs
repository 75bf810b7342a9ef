using Ceso.Engine.Formats;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;

namespace Ceso.Engine.Operations;

/// <summary>
/// A change of a registered VM made on its .vmx (docs/decisions.md: one implementation on both transports): read the
/// file, change <see cref="Vmx"/>, then one step (a <see cref="RewriteVmx"/>) writes the new text and reloads the VM; its
/// undo writes the old text back and reloads again. Shared by Set-CesoVm and Protect/Unprotect-CesoVm.
/// </summary>
internal sealed class VmxRewrite(OperationContext context, VmRef vm, DatastorePath path, string oldText, VmxFile vmx)
{
    /// <summary>Where the .vmx is.</summary>
    public DatastorePath Path { get; } = path;

    /// <summary>The file as read (the undo writes it back).</summary>
    public string OldText { get; } = oldText;

    /// <summary>The parsed file, to change before <see cref="Step"/>.</summary>
    public VmxFile Vmx { get; } = vmx;

    /// <summary>Reads the VM's .vmx (VmxPathUnknown when the host does not say where it is; UnreadableVmx for a line Ceso cannot read).</summary>
    public static async Task<VmxRewrite> ReadAsync(OperationContext context, CesoVm vm, CancellationToken ct)
    {
        var path = context.VmxPathOf(vm);
        var oldText = await context.ReadTextAsync(path, ct).ConfigureAwait(false);
        return new VmxRewrite(context, VmRef.Of(vm), path, oldText, context.ParseVmx(oldText, path));
    }

    /// <summary>The step that writes <see cref="Vmx"/> as it is now and reloads the VM; undo: the old file, reloaded.</summary>
    public PlanStep Step(string title, string target)
    {
        var newText = Vmx.ToString();
        return context.Step(title, target, new RewriteVmx(Path, newText, OldText, vm), new RewriteVmx(Path, OldText, newText, vm));
    }
}
