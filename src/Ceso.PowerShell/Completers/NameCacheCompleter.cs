using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Ceso.Engine.Connection;

namespace Ceso.PowerShell.Completers;

/// <summary>
/// Completes names from the local name cache that discovery cmdlets fill ($CESO_HOME/cache). Never opens a
/// connection: completion must be instant and work offline. When -Server is already typed, only that server's names are offered.
/// </summary>
/// <param name="wildcards">
/// True for parameters that take wildcards (Get-* -Name): names with [ ] * ? are escaped to match only themselves.
/// False for parameters that take an exact name (-Vm, -Template, -Datastore): the name is offered as it is.
/// </param>
/// <param name="kinds">The <see cref="NameCache"/> kinds offered, in order.</param>
public abstract class NameCacheCompleter(bool wildcards, params string[] kinds) : IArgumentCompleter
{
    /// <summary>Offers cached names that start with what was typed.</summary>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var server = fakeBoundParameters?["Server"] as string;
        var prefix = CompletionText.Unquote(wordToComplete);
        List<string> names;
        try
        {
            var cache = new NameCache(CesoHome.FromEnvironment());
            names = Extra(prefix).Concat(kinds.SelectMany(k => cache.Names(k, prefix, server))).Distinct(StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return []; // no cache, no completions
        }

        return names.Select(n => new CompletionResult(CompletionText.Quote(wildcards ? WildcardPattern.Escape(n) : n), n, CompletionResultType.ParameterValue, n));
    }

    /// <summary>Names offered before the cached ones (local files only).</summary>
    protected virtual IEnumerable<string> Extra(string prefix) => [];
}

/// <summary>Completes VM names for a wildcard -Name (Get-CesoVm -Name).</summary>
public sealed class VmNameCompleter() : NameCacheCompleter(true, NameCache.Vm);

/// <summary>Completes datastore names for a wildcard -Name (Get-CesoDatastore -Name).</summary>
public sealed class DatastoreNameCompleter() : NameCacheCompleter(true, NameCache.Datastore);

/// <summary>Completes portgroup names for a wildcard -Name (Get-CesoNetwork -Name).</summary>
public sealed class NetworkNameCompleter() : NameCacheCompleter(true, NameCache.Network);

/// <summary>Completes an exact VM (or template) name for -Vm.</summary>
public sealed class VmCompleter() : NameCacheCompleter(false, NameCache.Vm, NameCache.Template);

/// <summary>
/// Completes an exact name for -Template: the template registry (config.yaml) first, then cached templates, then VMs
/// (any powered-off VM can serve as one).
/// </summary>
public sealed class TemplateCompleter() : NameCacheCompleter(false, NameCache.Template, NameCache.Vm)
{
    /// <inheritdoc />
    protected override IEnumerable<string> Extra(string prefix)
    {
        try
        {
            return Ceso.Engine.Configuration.CesoConfig.Load(CesoHome.FromEnvironment()).Templates.Keys
                .Where(k => k.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).Order(StringComparer.OrdinalIgnoreCase).ToList();
        }
        catch (Ceso.Engine.CesoException)
        {
            return []; // a broken config.yaml is reported by New-CesoVm, not by tab completion
        }
    }
}

/// <summary>Completes an exact datastore name for -Datastore.</summary>
public sealed class DatastoreCompleter() : NameCacheCompleter(false, NameCache.Datastore);

/// <summary>Completes an exact portgroup name for -Network and -AddNetwork.</summary>
public sealed class NetworkCompleter() : NameCacheCompleter(false, NameCache.Network);
