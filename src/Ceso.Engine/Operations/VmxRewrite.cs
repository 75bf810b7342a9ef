using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;

namespace Ceso.Engine.Operations;

/// <summary>
/// A change of a registered VM made on its .vmx (docs/decisions.md: one implementation on both transports): read the
/// file, change <see cref="Vmx"/>, then one step writes the new text and reloads the VM; its undo writes the old
/// text back and reloads again. Shared by Set-CesoVm and Protect/Unprotect-CesoVm.
/// </summary>
internal sealed class VmxRewrite(OperationContext context, VmHandle vm, DatastorePath path, string oldText, VmxFile vmx)
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
        return new VmxRewrite(context, new VmHandle(vm.Name, vm.Id), path, oldText, context.ParseVmx(oldText, path));
    }

    /// <summary>The step that writes <see cref="Vmx"/> as it is now and reloads the VM; undo: the old file, reloaded.</summary>
    public PlanStep Step(string title, string target)
    {
        var newText = Vmx.ToString();
        return context.Step(title, target, t => Call(t, Path, newText, OldText, vm), t => Call(t, Path, OldText, newText, vm));
    }

    /// <summary>
    /// Writes a VM's .vmx and reloads the VM. If the reload fails, the previous file is put back (and reloaded) before
    /// the error goes up: a failed step must not leave a changed .vmx behind while the plan reports the host unchanged.
    /// </summary>
    private static HostCall Call(IHostCommands t, DatastorePath vmx, string text, string previous, VmHandle vm)
    {
        var write = t.WriteFile(vmx, text);
        var reload = t.Reload(vm);
        return new HostCall(write.Transport, () => $"{write.Command} && {reload.Command}", async ct =>
        {
            await write.Run(ct).ConfigureAwait(false);
            try
            {
                await reload.Run(ct).ConfigureAwait(false);
            }
            catch
            {
                try
                {
                    await t.WriteFile(vmx, previous).Run(CancellationToken.None).ConfigureAwait(false);
                    await t.Reload(vm).Run(CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception restore) when (restore is CesoException or IOException or HttpRequestException)
                {
                    // best effort: the original error goes up (a free license's refusal makes the adapter retry over SSH)
                }

                throw;
            }
        });
    }
}
