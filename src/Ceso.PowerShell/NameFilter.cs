using System.Management.Automation;
using Ceso.Engine;

namespace Ceso.PowerShell;

/// <summary>The -Name filter of discovery cmdlets: PowerShell wildcards, case-insensitive, as Get-ChildItem does it.</summary>
internal static class NameFilter
{
    /// <summary>
    /// The items whose name matches any pattern (all items when there are none), in host order and each once, and the
    /// patterns without wildcards that matched nothing (those are errors; a wildcard that matches nothing is not).
    /// </summary>
    public static (List<T> Matched, List<string> Missing) Apply<T>(IEnumerable<T> items, Func<T, string> nameOf, string[]? patterns)
    {
        if (patterns is null || patterns.Length == 0)
        {
            return (items.ToList(), []);
        }

        var compiled = patterns.Select(p => (Text: p, Pattern: WildcardPattern.Get(p, WildcardOptions.IgnoreCase), Hit: new bool[1])).ToList();
        var matched = new List<T>();
        foreach (var item in items)
        {
            var any = false;
            foreach (var c in compiled.Where(c => c.Pattern.IsMatch(nameOf(item))))
            {
                c.Hit[0] = any = true;
            }

            if (any)
            {
                matched.Add(item);
            }
        }

        return (matched, compiled.Where(c => !c.Hit[0] && !WildcardPattern.ContainsWildcardCharacters(c.Text)).Select(c => c.Text).ToList());
    }

    /// <summary>The error for an exact name (or id) that matched nothing on a server.</summary>
    public static CesoException NotFound(string errorId, string what, string name, string server, string listCommand) =>
        new(errorId, CesoErrorKind.NotFound,
            $"No {what} '{name}' was found on '{server}'. Run {listCommand} -Server {server} to list them; -Name accepts wildcards such as '{FirstChars(name)}*'.")
        {
            Host = server,
            Target = name,
        };

    private static string FirstChars(string name) => name.Length > 3 ? name[..3] : name;
}
