using System.Management.Automation;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Powers VMs on; a VM that is already on is left as it is.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "CesoVm", SupportsShouldProcess = true, DefaultParameterSetName = Default)]
[OutputType(typeof(CesoVm))]
public sealed class StartCesoVmCommand : VmChangeCmdlet
{
    /// <summary>Writes each VM as it is afterwards.</summary>
    [Parameter(ParameterSetName = Default)]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc />
    protected override bool WriteResult => PassThru;

    /// <inheritdoc />
    protected override Task<(Plan Plan, CesoVm Vm)> PlanAsync(VmOperations operations, string vm, CancellationToken cancellationToken) =>
        operations.PlanPowerAsync(vm, PowerAction.Start, cancellationToken);
}
