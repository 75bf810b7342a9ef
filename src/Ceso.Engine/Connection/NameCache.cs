using System.Text.Json;

namespace Ceso.Engine.Connection;

/// <summary>
/// Names seen by the last discovery of each server, in $CESO_HOME/cache/&lt;server&gt;.json, so that tab completion
/// can offer VM, datastore and portgroup names without opening a connection.
/// </summary>
public sealed class NameCache(CesoHome home)
{
    // Serialises read-modify-write of the cache files within the process; across processes the atomic rename keeps
    // each file whole (the last writer wins, which only costs completions).
    private static readonly object WriteLock = new();

    /// <summary>Kinds of names cached.</summary>
    public const string Vm = "vm", Datastore = "datastore", Network = "network", Template = "template";

    /// <summary>Records the names of one kind for a server (replacing the previous list).</summary>
    public void Record(string server, string kind, IEnumerable<string> names)
    {
        var file = FileOf(server);
        lock (WriteLock)
        {
            var all = Load(file);
            all[kind] = names.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            CesoHome.WriteAtomic(file, JsonSerializer.Serialize(all));
        }
    }

    /// <summary>Names of a kind across servers (or one server) that start with <paramref name="prefix"/>, case-insensitively.</summary>
    public IReadOnlyList<string> Names(string kind, string prefix = "", string? server = null)
    {
        var dir = Path.Combine(home.Path, "cache"); // reading never creates anything
        if (!Directory.Exists(dir))
        {
            return [];
        }

        var files = server is null ? Directory.GetFiles(dir, "*.json") : [Path.Combine(dir, SafeName(server))];
        return files.Where(File.Exists)
            .SelectMany(f => Load(f).GetValueOrDefault(kind) ?? [])
            .Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.OrdinalIgnoreCase)
            .ToList();
    }

    private string FileOf(string server) => home.File("cache", SafeName(server));

    private static string SafeName(string server) =>
        string.Concat(server.Select(c => char.IsLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')) + ".json";

    private static Dictionary<string, List<string>> Load(string file)
    {
        try
        {
            return File.Exists(file) ? JsonSerializer.Deserialize<Dictionary<string, List<string>>>(File.ReadAllText(file)) ?? [] : [];
        }
        catch (JsonException)
        {
            return []; // a damaged cache only costs completions
        }
    }
}
