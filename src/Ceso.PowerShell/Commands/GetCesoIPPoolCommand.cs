using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.Model;
using Ceso.Engine.State;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Lists the IP pools with how many addresses each has, how many are leased and how many are free.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CesoIPPool")]
[OutputType(typeof(CesoIPPool))]
public sealed class GetCesoIPPoolCommand : CesoCmdlet
{
    /// <summary>Pool names; wildcards allowed. Default: every pool.</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(IPPoolCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Reads the pools from $CESO_HOME/ippools.db and writes those that match.</summary>
    protected override void EndProcessing()
    {
        if (!TryRunEngine(ct => new IpPoolStore(Home).ListAsync(null, ct), Name, out var pools))
        {
            return;
        }

        var (matched, missing) = NameFilter.Apply(pools, p => p.Name, Name);
        foreach (var pool in matched)
        {
            WriteObject(pool);
        }

        foreach (var name in missing)
        {
            WriteEngineError(new CesoException("IPPoolNotFound", CesoErrorKind.NotFound,
                $"There is no IP pool named '{name}'. Run Get-CesoIPPool to list the pools, or create it with New-CesoIPPool.") { Target = name }, name);
        }
    }
}
