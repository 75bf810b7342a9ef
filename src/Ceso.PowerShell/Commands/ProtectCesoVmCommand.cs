using System.Management.Automation;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Protects VMs: Ceso then refuses to stop, reset, change or remove them until Unprotect-CesoVm.</para>
/// </summary>
[Cmdlet(VerbsSecurity.Protect, "CesoVm", SupportsShouldProcess = true, DefaultParameterSetName = Default)]
[OutputType(typeof(CesoVm))]
public sealed class ProtectCesoVmCommand : VmChangeCmdlet
{
    /// <summary>Writes each VM as it is afterwards.</summary>
    [Parameter(ParameterSetName = Default)]
    public SwitchParameter PassThru { get; set; }

    /// <inheritdoc />
    protected override bool WriteResult => PassThru;

    /// <inheritdoc />
    protected override Task<(Plan Plan, CesoVm Vm)> PlanAsync(VmOperations operations, string vm, CancellationToken cancellationToken) =>
        operations.PlanProtectionAsync(vm, protect: true, cancellationToken);
}
