using Ceso.Engine.Configuration;
using Ceso.Engine.Connection;

namespace Ceso.PowerShell.Completers;

/// <summary>Completes the template names registered in $CESO_HOME/config.yaml (a local file only), with their VM and description as the tooltip.</summary>
public sealed class TemplateRegistryCompleter : LocalNameCompleter
{
    /// <inheritdoc />
    protected override IEnumerable<(string Name, string Tooltip)> Read(CesoHome home) =>
        CesoConfig.Load(home).Templates.Select(t =>
            (t.Key, string.IsNullOrWhiteSpace(t.Value.Description) ? $"VM '{t.Value.Vm}'" : $"{t.Value.Description} (VM '{t.Value.Vm}')"));
}
