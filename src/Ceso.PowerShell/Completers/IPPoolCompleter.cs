using Ceso.Engine.Connection;
using Ceso.Engine.State;

namespace Ceso.PowerShell.Completers;

/// <summary>Completes -IPPool and -Name of the pool cmdlets with the pools in $CESO_HOME/ippools.db (a local file only).</summary>
public sealed class IPPoolCompleter : LocalNameCompleter
{
    /// <inheritdoc />
    protected override IEnumerable<(string Name, string Tooltip)> Read(CesoHome home) =>
        new IpPoolStore(home).Names().Select(n => (n, n));
}
