using System.Management.Automation;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Deletes powered-off VMs and their files from the host, or with -KeepFiles only unregisters them.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "CesoVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = Default)]
[OutputType(typeof(void))]
public sealed class RemoveCesoVmCommand : VmChangeCmdlet
{
    /// <summary>Only unregister the VM; its folder and disks stay on the datastore.</summary>
    [Parameter(ParameterSetName = Default)]
    public SwitchParameter KeepFiles { get; set; }

    /// <inheritdoc />
    protected override Task<(Plan Plan, CesoVm Vm)> PlanAsync(VmOperations operations, string vm, CancellationToken cancellationToken) =>
        operations.PlanRemoveAsync(vm, KeepFiles, cancellationToken);
}
