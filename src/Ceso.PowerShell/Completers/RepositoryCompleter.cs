using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Ceso.Engine.Configuration;
using Ceso.Engine.Connection;

namespace Ceso.PowerShell.Completers;

/// <summary>Completes -Repository with the repository names registered in $CESO_HOME/config.yaml (a local file only).</summary>
public sealed class RepositoryCompleter : IArgumentCompleter
{
    /// <summary>Offers registered names that start with what was typed.</summary>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = CompletionText.Unquote(wordToComplete);
        Dictionary<string, RepositoryEntry> repositories;
        try
        {
            repositories = CesoConfig.Load(CesoHome.FromEnvironment()).Repositories;
        }
        catch (Exception e) when (e is Ceso.Engine.CesoException or IOException or UnauthorizedAccessException)
        {
            return []; // a broken config.yaml is reported by the cmdlet, not by tab completion
        }

        return repositories
            .Where(r => r.Key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .OrderBy(r => r.Key, StringComparer.OrdinalIgnoreCase)
            .Select(r => new CompletionResult(CompletionText.Quote(r.Key), r.Key, CompletionResultType.ParameterValue,
                string.IsNullOrWhiteSpace(r.Value.Description) ? r.Value.Location : $"{r.Value.Description} ({r.Value.Location})"));
    }
}
