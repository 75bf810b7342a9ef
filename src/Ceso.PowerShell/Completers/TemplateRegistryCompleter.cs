using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Ceso.Engine.Configuration;
using Ceso.Engine.Connection;

namespace Ceso.PowerShell.Completers;

/// <summary>Completes the template names registered in $CESO_HOME/config.yaml (a local file only), with their VM and description as the tooltip.</summary>
public sealed class TemplateRegistryCompleter : IArgumentCompleter
{
    /// <summary>Offers registered names that start with what was typed.</summary>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = CompletionText.Unquote(wordToComplete);
        Dictionary<string, TemplateEntry> templates;
        try
        {
            templates = CesoConfig.Load(CesoHome.FromEnvironment()).Templates;
        }
        catch (Exception e) when (e is Ceso.Engine.CesoException or IOException or UnauthorizedAccessException)
        {
            return []; // a broken config.yaml is reported by the cmdlet, not by tab completion
        }

        return templates
            .Where(t => t.Key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .OrderBy(t => t.Key, StringComparer.OrdinalIgnoreCase)
            .Select(t => new CompletionResult(CompletionText.Quote(t.Key), t.Key, CompletionResultType.ParameterValue,
                string.IsNullOrWhiteSpace(t.Value.Description) ? $"VM '{t.Value.Vm}'" : $"{t.Value.Description} (VM '{t.Value.Vm}')"));
    }
}
