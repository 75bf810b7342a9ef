using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Ceso.Engine.Connection;
using Ceso.Engine.Security;

namespace Ceso.PowerShell.Completers;

/// <summary>Completes Grant-CesoAgentAccess -Operation with the operations Ceso plans.</summary>
public sealed class AgentOperationCompleter : IArgumentCompleter
{
    /// <summary>Offers the operations that start with what was typed.</summary>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = CompletionText.Unquote(wordToComplete);
        return AgentPolicy.KnownOperations
            .Where(o => o.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(o => new CompletionResult(o, o, CompletionResultType.ParameterValue, o));
    }
}

/// <summary>Completes -Agent with the agents that have grants in $CESO_HOME (a local file only).</summary>
public sealed class AgentNameCompleter : IArgumentCompleter
{
    /// <summary>Offers the agent names that start with what was typed.</summary>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = CompletionText.Unquote(wordToComplete);
        IReadOnlyList<AgentGrant> grants;
        try
        {
            grants = new AgentGrantStore(CesoHome.FromEnvironment()).List();
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
        {
            return [];
        }

        return grants.Select(g => g.Agent).Distinct(StringComparer.OrdinalIgnoreCase)
            .Where(a => a.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.OrdinalIgnoreCase)
            .Select(a => new CompletionResult(CompletionText.Quote(a), a, CompletionResultType.ParameterValue, a));
    }
}
