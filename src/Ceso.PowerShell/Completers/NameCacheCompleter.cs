using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Ceso.Engine.Connection;

namespace Ceso.PowerShell.Completers;

/// <summary>
/// Completes names from the local name cache that discovery cmdlets fill ($CESO_HOME/cache). Never opens a
/// connection: completion must be instant and work offline. When -Server is already typed, only that server's names are offered.
/// </summary>
public abstract class NameCacheCompleter(string kind) : IArgumentCompleter
{
    /// <summary>Offers cached names that start with what was typed.</summary>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var server = fakeBoundParameters?["Server"] as string;
        IReadOnlyList<string> names;
        try
        {
            names = new NameCache(CesoHome.FromEnvironment()).Names(kind, CompletionText.Unquote(wordToComplete), server);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return []; // no cache, no completions
        }

        // The parameters take wildcards, so names with [ ] * ? are escaped to match only themselves.
        return names.Select(n => new CompletionResult(CompletionText.Quote(WildcardPattern.Escape(n)), n, CompletionResultType.ParameterValue, n));
    }
}

/// <summary>Completes VM names (Get-CesoVm -Name).</summary>
public sealed class VmNameCompleter() : NameCacheCompleter(NameCache.Vm);

/// <summary>Completes datastore names (Get-CesoDatastore -Name).</summary>
public sealed class DatastoreNameCompleter() : NameCacheCompleter(NameCache.Datastore);

/// <summary>Completes portgroup names (Get-CesoNetwork -Name).</summary>
public sealed class NetworkNameCompleter() : NameCacheCompleter(NameCache.Network);
