using System.Management.Automation;
using Ceso.Engine.Model;
using Ceso.Engine.State;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Lists the addresses leased from IP pools: pool, address, VM, server and since when.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CesoIPLease")]
[OutputType(typeof(CesoIPLease))]
public sealed class GetCesoIPLeaseCommand : CesoCmdlet
{
    /// <summary>Pool names; wildcards allowed. Default: every pool.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(IPPoolCompleter))]
    public string[]? Pool { get; set; }

    /// <summary>VM names; wildcards allowed. Default: every VM.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[]? VmName { get; set; }

    /// <summary>Writes the leases that match.</summary>
    protected override void ProcessRecord()
    {
        if (!TryRunEngine(ct => new IpPoolStore(Home).ListLeasesAsync(null, ct), Pool, out var leases))
        {
            return;
        }

        var (inPools, _) = NameFilter.Apply(leases, l => l.Pool, Pool);
        var (matched, _) = NameFilter.Apply(inPools, l => l.VmName, VmName);
        foreach (var lease in matched)
        {
            WriteObject(lease);
        }
    }
}
