using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;

namespace Ceso.Engine.Operations;

/// <summary>Start/Stop/Restart-CesoVm: one power step, or none when the VM is already in the state asked for.</summary>
/// <param name="context">The operation's context.</param>
/// <param name="guards">Protection checks.</param>
/// <param name="shutdownTimeout">How long a guest shutdown may take before the step fails (it never forces power-off by itself).</param>
internal sealed class PowerVm(OperationContext context, VmGuards guards, TimeSpan shutdownTimeout)
{
    /// <summary>Plans a power change.</summary>
    public async Task<(Plan Plan, CesoVm Vm)> PlanAsync(string vmName, PowerAction action, CancellationToken ct)
    {
        var host = context.Host;
        var vm = await VmLookup.FindAsync(context, vmName, ct).ConfigureAwait(false);
        guards.CheckNotProtected(vm, action);
        var h = VmRef.Of(vm);
        var want = action == PowerAction.Start ? CesoPowerState.PoweredOn : action == PowerAction.Reset ? CesoPowerState.PoweredOn : CesoPowerState.PoweredOff;
        var steps = new List<PlanStep>();
        var target = $"{host}/{vm.Name}";
        if (action == PowerAction.Reset && vm.PowerState != CesoPowerState.PoweredOn)
        {
            throw new CesoException("InvalidPowerState", CesoErrorKind.InvalidState, $"'{vm.Name}' is {vm.PowerState}; only a running VM can be reset. Start it with Start-CesoVm.") { Target = vmName, Host = host };
        }

        // A suspended guest is not running, so it cannot shut itself down: say what can be done instead.
        if (action == PowerAction.Shutdown && vm.PowerState == CesoPowerState.Suspended)
        {
            throw new CesoException("InvalidPowerState", CesoErrorKind.InvalidState,
                $"'{vm.Name}' is Suspended: its guest is not running and cannot shut down. Resume it with Start-CesoVm and stop it then, or power it off with Stop-CesoVm -Kill (the suspended state is lost).")
            { Target = vmName, Host = host };
        }

        // Asking for the state a VM is already in is not an error: scripts can re-run safely (the plan is empty).
        if (vm.PowerState != want || action == PowerAction.Reset)
        {
            steps.Add(action switch
            {
                PowerAction.Start => context.Step($"Power on '{vm.Name}'", target, new PowerOn(h)),
                PowerAction.Shutdown => context.Step($"Shut down the guest of '{vm.Name}' and wait until it is off", target, new Shutdown(h, shutdownTimeout)),
                PowerAction.Kill => context.Step($"Power off '{vm.Name}'", target, new PowerOff(h)),
                _ => context.Step($"Reset '{vm.Name}'", target, new Reset(h)),
            });
        }

        return (context.Plan(action + "Vm", vm.Name, steps), vm);
    }
}
