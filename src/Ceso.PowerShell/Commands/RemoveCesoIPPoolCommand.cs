using System.Management.Automation;
using Ceso.Engine.State;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Removes IP pools; one with leases only with -Force, which drops its leases (the VMs keep their addresses).</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "CesoIPPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveCesoIPPoolCommand : CesoCmdlet
{
    /// <summary>The pools to remove, by name, or Get-CesoIPPool results.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(IPPoolCompleter))]
    public string[] Name { get; set; } = [];

    /// <summary>Remove a pool that has leases too, dropping the leases.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Removes each pool after asking.</summary>
    protected override void ProcessRecord()
    {
        var store = new IpPoolStore(Home);
        foreach (var name in Name)
        {
            if (!TryRunEngine(ct => store.GetAsync(name, ct), name, out var pool))
            {
                continue;
            }

            if (pool.Used > 0 && !Force)
            {
                // Refused before asking (also under -WhatIf): the engine's IPPoolInUse names the leases and what to do.
                TryRunEngine(ct => store.RemoveAsync(pool.Name, force: false, ct), name, out _);
                continue;
            }

            var what = pool.Used == 0 ? $"Remove IP pool '{pool.Name}' ({pool.Subnet})" : $"Remove IP pool '{pool.Name}' ({pool.Subnet}) and drop its {pool.Used} lease(s)";
            if (!ShouldProcess(store.FilePath, what) || !AuthorizeLocalChange("RemoveIPPool", store.FilePath, what, name))
            {
                continue;
            }

            if (TryRunEngine(ct => store.RemoveAsync(pool.Name, Force, ct), name, out var dropped))
            {
                foreach (var lease in dropped)
                {
                    WriteVerbose($"Dropped the lease of {lease.IPAddress} for '{lease.VmName}' on {lease.Server}.");
                }
            }
        }
    }
}
