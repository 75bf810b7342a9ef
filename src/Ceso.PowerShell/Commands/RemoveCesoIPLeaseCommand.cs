using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.State;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Releases leased addresses, so their pool can hand them out again (for VMs removed outside Ceso, or kept with Remove-CesoVm -KeepFiles).</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "CesoIPLease", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveCesoIPLeaseCommand : CesoCmdlet
{
    /// <summary>The pool the address was leased from.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(IPPoolCompleter))]
    public string Pool { get; set; } = "";

    /// <summary>The leased addresses (Get-CesoIPLease output binds by its IPAddress property).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("IPAddress")]
    [ValidateNotNullOrEmpty]
    public string[] Address { get; set; } = [];

    /// <summary>Releases each address after asking.</summary>
    protected override void ProcessRecord()
    {
        var store = new IpPoolStore(Home);
        if (!TryRunEngine(ct => store.ListLeasesAsync(Pool, ct), Pool, out var leases))
        {
            return;
        }

        foreach (var address in Address)
        {
            var lease = leases.FirstOrDefault(l => System.Net.IPAddress.TryParse(address, out var a) && a.ToString() == l.IPAddress);
            if (lease is null)
            {
                WriteEngineError(new CesoException("IPLeaseNotFound", CesoErrorKind.NotFound,
                    $"IP pool '{Pool}' has no lease of '{address}'. Run Get-CesoIPLease -Pool '{Pool}' to list its leases.") { Target = address }, address);
                continue;
            }

            var what = $"Release the lease of '{lease.VmName}' on {lease.Server}";
            if (ShouldProcess($"{lease.IPAddress} (pool '{lease.Pool}')", what) && AuthorizeLocalChange("RemoveIPLease", $"{lease.IPAddress} (pool '{lease.Pool}')", what, address))
            {
                TryRunEngine(ct => store.ReleaseAsync(lease.Pool, lease.IPAddress, ct), address, out _);
            }
        }
    }
}
