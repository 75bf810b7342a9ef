using Ceso.Engine.Configuration;
using Ceso.Engine.Connection;

namespace Ceso.PowerShell.Completers;

/// <summary>Completes -Repository with the repository names registered in $CESO_HOME/config.yaml (a local file only).</summary>
public sealed class RepositoryCompleter : LocalNameCompleter
{
    /// <inheritdoc />
    protected override IEnumerable<(string Name, string Tooltip)> Read(CesoHome home) =>
        CesoConfig.Load(home).Repositories.Select(r =>
            (r.Key, string.IsNullOrWhiteSpace(r.Value.Description) ? r.Value.Location : $"{r.Value.Description} ({r.Value.Location})"));
}
