using System.Management.Automation;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Stops VMs: a guest shutdown through VMware Tools, or with -Kill an immediate power-off.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "CesoVm", SupportsShouldProcess = true, DefaultParameterSetName = Default)]
[OutputType(typeof(CesoVm))]
public sealed class StopCesoVmCommand : VmChangeCmdlet
{
    /// <summary>Power off at once instead of asking the guest to shut down (the guest loses unsaved data).</summary>
    [Parameter(ParameterSetName = Default)]
    public SwitchParameter Kill { get; set; }

    /// <summary>Writes each VM as it is afterwards.</summary>
    [Parameter(ParameterSetName = Default)]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc />
    protected override bool WriteResult => PassThru;

    /// <inheritdoc />
    protected override Task<(Plan Plan, CesoVm Vm)> PlanAsync(VmOperations operations, string vm, CancellationToken cancellationToken) =>
        operations.PlanPowerAsync(vm, Kill ? PowerAction.Kill : PowerAction.Shutdown, cancellationToken);
}
