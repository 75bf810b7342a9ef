using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;

namespace Ceso.Engine.Operations;

/// <summary>Remove-CesoVm: unregister a powered-off VM, and delete its files unless they are kept.</summary>
internal sealed class RemoveVm(OperationContext context, VmGuards guards)
{
    /// <summary>Plans the remove: the VM must be powered off; files are deleted unless <paramref name="keepFiles"/>.</summary>
    public async Task<(Plan Plan, CesoVm Vm)> PlanAsync(string vmName, bool keepFiles, CancellationToken ct)
    {
        var host = context.Host;
        var vm = await VmLookup.FindAsync(context, vmName, ct).ConfigureAwait(false);
        guards.CheckNotProtected(vm, "remove");
        if (vm.PowerState != CesoPowerState.PoweredOff)
        {
            throw new CesoException("InvalidPowerState", CesoErrorKind.InvalidState, $"'{vm.Name}' is {vm.PowerState}; stop it first (Stop-CesoVm '{vm.Name}'), then remove it.") { Target = vmName, Host = host };
        }

        var h = VmRef.Of(vm);
        var step = keepFiles
            ? context.Step($"Unregister '{vm.Name}' (files kept)", $"{host}/{vm.Name}", new Unregister(h))
            : context.Step($"Delete '{vm.Name}' and its files", $"{host}/{vm.Name}", new Destroy(h));
        return (context.Plan("RemoveVm", vm.Name, [step]), vm);
    }
}
