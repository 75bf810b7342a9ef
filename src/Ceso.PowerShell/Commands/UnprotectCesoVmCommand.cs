using System.Management.Automation;
using Ceso.Engine.Model;
using Ceso.Engine.Vms;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Lifts the protection of VMs set by Protect-CesoVm, so that Ceso may change or remove them again.</para>
/// </summary>
[Cmdlet(VerbsSecurity.Unprotect, "CesoVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = Default)]
[OutputType(typeof(CesoVm))]
public sealed class UnprotectCesoVmCommand : CesoCmdlet
{
    private const string Default = "Default";

    /// <summary>The VMs: names, ids, or Get-CesoVm results.</summary>
    [Parameter(ParameterSetName = Default, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(VmCompleter))]
    public VmIdentity[] Vm { get; set; } = [];

    /// <summary>Writes each VM as it is afterwards.</summary>
    [Parameter(ParameterSetName = Default)]
    public SwitchParameter PassThru { get; set; }

    /// <summary>The session to use. Default: the server a piped VM came from, else the default session.</summary>
    [Parameter(ParameterSetName = Default, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity? Server { get; set; }

    /// <summary>Plans each VM's change, asks per step and runs it.</summary>
    protected override void ProcessRecord()
    {
        foreach (var vm in Vm)
        {
            RunVmPlan(vm, Server, (ops, ct) => ops.PlanProtectionAsync(vm.Name, protect: false, ct), PassThru);
        }
    }
}
