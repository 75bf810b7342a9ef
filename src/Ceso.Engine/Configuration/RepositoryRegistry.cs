using Ceso.Engine.Connection;

namespace Ceso.Engine.Configuration;

/// <summary>
/// Registers backup repositories by name in $CESO_HOME/config.yaml without rewriting the rest of the file: the
/// user's comments, order and templates stay as they are. A new name is added under <c>repositories:</c> (the
/// section is appended when there is none); an existing name is refused, never overwritten.
/// </summary>
public static class RepositoryRegistry
{
    /// <summary>Adds <paramref name="name"/> → <paramref name="location"/>; <c>RepositoryNameExists</c> when the name is taken.</summary>
    public static void Register(CesoHome home, string name, string location, string? description = null, Backup.RepositoryLocationOptions? options = null)
    {
        if (!ConfigYaml.IsName(name))
        {
            throw new CesoException("InvalidRepositoryName", CesoErrorKind.InvalidArgument,
                $"'{name}' is not a repository name Ceso can register: use letters, digits, '.', '_' and '-' (at most 64), starting with a letter or digit.")
            { Target = name };
        }

        var config = CesoConfig.Load(home); // a malformed file is reported before it is touched
        if (config.Repositories.ContainsKey(name))
        {
            throw new CesoException("RepositoryNameExists", CesoErrorKind.InvalidArgument,
                $"A repository named '{name}' is already registered in {CesoConfig.PathOf(home)} (at {config.Repositories[name].Location}). Choose another name, or edit the file.")
            { Target = name };
        }

        var lines = ConfigYaml.Read(home);
        var entry = new List<string> { $"  {name}:", $"    location: {Quote(location)}" };
        if (!string.IsNullOrWhiteSpace(description))
        {
            entry.Add($"    description: {Quote(description)}");
        }

        if (options is not null)
        {
            void Add(string key, string? value)
            {
                if (!string.IsNullOrWhiteSpace(value))
                {
                    entry.Add($"    {key}: {Quote(value)}");
                }
            }

            Add("endpoint", options.Endpoint?.ToString());
            Add("region", options.Region);
            if (options.PathStyle is { } pathStyle)
            {
                entry.Add($"    path-style: {(pathStyle ? "true" : "false")}");
            }

            Add("profile", options.Profile);
            Add("identity-file", options.IdentityFile);
            Add("known-hosts-file", options.KnownHostsFile);
        }

        ConfigYaml.AddEntry(lines, "repositories", entry);
        ConfigYaml.Save(home, lines, written => _ = written.Repositories[name]); // what was written must read back with the new entry
    }

    private static string Quote(string s) => ConfigYaml.Quote(s);
}
