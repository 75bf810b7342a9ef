using System.Management.Automation;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell;

/// <summary>
/// Base of the cmdlets that change existing VMs one by one (Start/Stop/Restart/Remove/Protect/Unprotect/Set-CesoVm):
/// the -Vm and -Server parameters they share, and one plan per VM through <see cref="CesoCmdlet.RunVmPlan"/>.
/// </summary>
public abstract class VmChangeCmdlet : CesoCmdlet
{
    /// <summary>The parameter set every VM-changing cmdlet uses.</summary>
    protected const string Default = "Default";

    /// <summary>The VMs: names, ids, or Get-CesoVm results.</summary>
    [Parameter(ParameterSetName = Default, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(VmCompleter))]
    public VmIdentity[] Vm { get; set; } = [];

    /// <summary>The session to use. Default: the server a piped VM came from, else the default session.</summary>
    [Parameter(ParameterSetName = Default, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity? Server { get; set; }

    /// <summary>Whether each VM is written as it is afterwards (-PassThru of the cmdlets that have it).</summary>
    protected virtual bool WriteResult => false;

    /// <summary>The engine call that plans the change of one VM (reads only); <c>vm</c> is its id when known, else its name.</summary>
    protected abstract Task<(Plan Plan, CesoVm Vm)> PlanAsync(VmOperations operations, string vm, CancellationToken cancellationToken);

    /// <summary>Plans each VM's change, asks per step and runs it.</summary>
    protected override void ProcessRecord()
    {
        foreach (var vm in Vm)
        {
            // A piped VM object carries its id: that exact VM is changed even when another has the same name.
            RunVmPlan(vm, Server, (ops, ct) => PlanAsync(ops, vm.Id ?? vm.Name, ct), WriteResult);
        }
    }
}
