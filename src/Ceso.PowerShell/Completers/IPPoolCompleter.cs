using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Ceso.Engine.Connection;
using Ceso.Engine.State;

namespace Ceso.PowerShell.Completers;

/// <summary>Completes -IPPool and -Name of the pool cmdlets with the pools in $CESO_HOME/ippools.db (a local file only).</summary>
public sealed class IPPoolCompleter : IArgumentCompleter
{
    /// <summary>Offers pool names that start with what was typed.</summary>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = CompletionText.Unquote(wordToComplete);
        IReadOnlyList<string> names;
        try
        {
            names = new IpPoolStore(CesoHome.FromEnvironment()).Names();
        }
        catch (Exception e) when (e is Ceso.Engine.CesoException or IOException or UnauthorizedAccessException)
        {
            return []; // a broken store is reported by the cmdlets, not by tab completion
        }

        return names.Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(n => new CompletionResult(CompletionText.Quote(n), n, CompletionResultType.ParameterValue, n));
    }
}
