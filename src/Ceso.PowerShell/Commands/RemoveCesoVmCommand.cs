using System.Management.Automation;
using Ceso.Engine.Vms;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Deletes powered-off VMs and their files from the host, or with -KeepFiles only unregisters them.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "CesoVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = Default)]
[OutputType(typeof(void))]
public sealed class RemoveCesoVmCommand : CesoCmdlet
{
    private const string Default = "Default";

    /// <summary>The VMs: names, ids, or Get-CesoVm results.</summary>
    [Parameter(ParameterSetName = Default, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(VmCompleter))]
    public VmIdentity[] Vm { get; set; } = [];

    /// <summary>Only unregister the VM; its folder and disks stay on the datastore.</summary>
    [Parameter(ParameterSetName = Default)]
    public SwitchParameter KeepFiles { get; set; }

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
            RunVmPlan(vm, Server, (ops, ct) => ops.PlanRemoveAsync(vm.Name, KeepFiles, ct), passThru: false);
        }
    }
}
