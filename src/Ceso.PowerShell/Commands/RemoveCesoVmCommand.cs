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

    /// <summary>Removes each VM; once its files are deleted, its IP pool leases on that server are released.</summary>
    protected override void ProcessRecord()
    {
        foreach (var vm in Vm)
        {
            if (ResolveServer(Server, vm) is not { } session || OpenVmOperations(session, vm) is not { } ops)
            {
                continue;
            }

            if (RunPlan(session, vm, ct => PlanAsync(ops, vm.Id ?? vm.Name, ct), out var removed) != PlanOutcome.Executed || removed is null)
            {
                continue;
            }

            if (KeepFiles)
            {
                // The kept .vmx still carries the address in its guestinfo: registered again, the VM would use it.
                WriteVerbose($"'{removed.Name}' was only unregistered: its IP pool leases are kept (Remove-CesoIPLease releases them).");
                continue;
            }

            var leasing = new AddressLeasing(session, Home);
            if (TryRunEngine(ct => leasing.ReleaseVmAsync(removed.Name, removed.Id, null, ct), vm, out var released))
            {
                foreach (var lease in released)
                {
                    WriteVerbose($"Released {lease.IPAddress} (pool '{lease.Pool}') of '{removed.Name}'.");
                }
            }
        }
    }

    /// <inheritdoc />
    protected override Task<(Plan Plan, CesoVm Vm)> PlanAsync(VmOperations operations, string vm, CancellationToken cancellationToken) =>
        operations.PlanRemoveAsync(vm, KeepFiles, cancellationToken);
}
