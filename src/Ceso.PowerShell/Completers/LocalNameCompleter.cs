using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Ceso.Engine.Connection;

namespace Ceso.PowerShell.Completers;

/// <summary>
/// Completes names kept in $CESO_HOME (config.yaml, the SQLite stores): never the network. A store that cannot be read
/// completes nothing; the cmdlet reports it, not tab completion.
/// </summary>
public abstract class LocalNameCompleter : IArgumentCompleter
{
    /// <summary>The names with their tooltips, read from <paramref name="home"/>.</summary>
    protected abstract IEnumerable<(string Name, string Tooltip)> Read(CesoHome home);

    /// <summary>Offers the names that start with what was typed, in order, quoted when they need it.</summary>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = CompletionText.Unquote(wordToComplete);
        List<(string Name, string Tooltip)> items;
        try
        {
            items = Read(CesoHome.FromEnvironment()).ToList();
        }
        catch (Exception e) when (e is Ceso.Engine.CesoException or IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            return [];
        }

        return items
            .Where(i => i.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .DistinctBy(i => i.Name, StringComparer.OrdinalIgnoreCase)
            .OrderBy(i => i.Name, StringComparer.OrdinalIgnoreCase)
            .Select(i => new CompletionResult(CompletionText.Quote(i.Name), i.Name, CompletionResultType.ParameterValue, i.Tooltip))
            .ToList();
    }
}
