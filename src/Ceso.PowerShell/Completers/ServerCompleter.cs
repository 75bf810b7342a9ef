using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Ceso.PowerShell.Completers;

/// <summary>Completes -Server with the names of this runspace's open sessions.</summary>
public sealed class ServerCompleter : IArgumentCompleter
{
    /// <summary>Offers open session names that start with what was typed.</summary>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = CompletionText.Unquote(wordToComplete);
        return SessionRegistry.Current.List()
            .Select(s => s.Name)
            .Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(n => new CompletionResult(CompletionText.Quote(n), n, CompletionResultType.ParameterValue, n));
    }
}
