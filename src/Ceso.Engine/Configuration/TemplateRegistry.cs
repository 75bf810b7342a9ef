using System.Globalization;
using Ceso.Engine.Connection;
using Ceso.Engine.Model;

namespace Ceso.Engine.Configuration;

/// <summary>
/// The template registry, <c>templates:</c> in $CESO_HOME/config.yaml, edited in place like the repositories
/// (<see cref="ConfigYaml"/>): registering adds one entry, unregistering removes that entry's lines, recording a
/// validation result replaces or adds its <c>last-result</c>/<c>last-checked</c> lines. The user's comments, order,
/// other entries and sections stay as they are; an entry written in flow style (<c>name: { vm: x }</c>) is rewritten
/// in block style when a result is recorded in it, and no other line changes.
/// </summary>
public static class TemplateRegistry
{
    /// <summary>Every registered template, in the file's order.</summary>
    public static IReadOnlyList<CesoTemplate> List(CesoHome home) =>
        CesoConfig.Load(home).Templates.Select(t => ToModel(t.Key, t.Value)).ToList();

    /// <summary>A registry entry as Get-CesoTemplate shows it.</summary>
    public static CesoTemplate ToModel(string name, TemplateEntry e) => new()
    {
        Name = name,
        Vm = e.Vm,
        Server = e.Server,
        Description = e.Description,
        NumCpu = e.NumCpu,
        MemoryMB = e.MemoryMB,
        DiskGB = e.DiskGB,
        Network = e.Network,
        LastResult = e.LastResult,
        LastChecked = DateTimeOffset.TryParse(e.LastChecked, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null,
    };

    /// <summary>Adds a template; <c>TemplateNameExists</c> when the name is taken (never overwritten).</summary>
    public static void Register(CesoHome home, string name, TemplateEntry entry)
    {
        if (!ConfigYaml.IsName(name))
        {
            throw new CesoException("InvalidTemplateName", CesoErrorKind.InvalidArgument,
                $"'{name}' is not a template name Ceso can register: use letters, digits, '.', '_' and '-' (at most 64), starting with a letter or digit.")
            { Target = name };
        }

        var config = CesoConfig.Load(home); // a malformed file is reported before it is touched
        if (config.Templates.TryGetValue(name, out var taken))
        {
            throw new CesoException("TemplateNameExists", CesoErrorKind.InvalidArgument,
                $"A template named '{name}' is already registered in {CesoConfig.PathOf(home)} (VM '{taken.Vm}'). Choose another name, or Unregister-CesoTemplate {name} first.")
            { Target = name };
        }

        var lines = ConfigYaml.Read(home);
        ConfigYaml.AddEntry(lines, "templates", Render(name, entry, "  "));
        ConfigYaml.Save(home, lines, written => _ = written.Templates[name]);
    }

    /// <summary>Removes a template's lines and returns what it was; <c>TemplateNotRegistered</c> when there is none.</summary>
    public static TemplateEntry Unregister(CesoHome home, string name)
    {
        var config = CesoConfig.Load(home);
        if (!config.Templates.TryGetValue(name, out var entry))
        {
            throw NotRegistered(home, name);
        }

        var lines = ConfigYaml.Read(home);
        var (start, end) = ConfigYaml.FindEntry(lines, "templates", name) ?? throw NotEditable(home, name);
        lines.RemoveRange(start, end - start);
        ConfigYaml.Save(home, lines, written =>
        {
            if (written.Templates.ContainsKey(name))
            {
                throw NotEditable(home, name);
            }
        });
        return entry;
    }

    /// <summary>
    /// Records a validation in the entry: <c>last-result</c> (<c>Ready</c>, or <c>NotReady: A, B</c> naming the failed
    /// checks) and <c>last-checked</c> (UTC, ISO 8601).
    /// </summary>
    public static void RecordResult(CesoHome home, string name, string result, DateTimeOffset checkedAt)
    {
        var config = CesoConfig.Load(home);
        if (!config.Templates.TryGetValue(name, out var entry))
        {
            throw NotRegistered(home, name);
        }

        var when = checkedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var lines = ConfigYaml.Read(home);
        var (start, end) = ConfigYaml.FindEntry(lines, "templates", name) ?? throw NotEditable(home, name);
        if (ConfigYaml.IsFlow(lines, start))
        {
            entry.LastResult = result;
            entry.LastChecked = when;
            var indent = new string(' ', lines[start].Length - lines[start].TrimStart(' ').Length);
            lines.RemoveRange(start, end - start);
            lines.InsertRange(start, Render(KeyAsWritten(name, config), entry, indent));
        }
        else
        {
            end = ConfigYaml.SetField(lines, start, end, "last-result", ConfigYaml.Quote(result));
            ConfigYaml.SetField(lines, start, end, "last-checked", ConfigYaml.Quote(when));
        }

        ConfigYaml.Save(home, lines, written =>
        {
            if (!written.Templates.TryGetValue(name, out var back) || back.LastResult != result || back.LastChecked != when)
            {
                throw NotEditable(home, name);
            }
        });
    }

    /// <summary>The entry's lines in block style, at <paramref name="indent"/> (fields two spaces deeper).</summary>
    internal static List<string> Render(string name, TemplateEntry e, string indent)
    {
        var field = indent + "  ";
        var lines = new List<string> { indent + (ConfigYaml.IsName(name) ? name : ConfigYaml.Quote(name)) + ":", field + "vm: " + ConfigYaml.Quote(e.Vm) };
        void Add(string key, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                lines.Add(field + key + ": " + value);
            }
        }

        Add("server", e.Server is null ? null : ConfigYaml.Quote(e.Server));
        Add("description", e.Description is null ? null : ConfigYaml.Quote(e.Description));
        Add("num-cpu", e.NumCpu?.ToString(CultureInfo.InvariantCulture));
        Add("memory-mb", e.MemoryMB?.ToString(CultureInfo.InvariantCulture));
        Add("disk-gb", e.DiskGB?.ToString(CultureInfo.InvariantCulture));
        Add("network", e.Network is null ? null : ConfigYaml.Quote(e.Network));
        Add("last-result", e.LastResult is null ? null : ConfigYaml.Quote(e.LastResult));
        Add("last-checked", e.LastChecked is null ? null : ConfigYaml.Quote(e.LastChecked));
        return lines;
    }

    // The registry matches names case-insensitively; a rewritten flow entry keeps the spelling the file had.
    private static string KeyAsWritten(string name, CesoConfig config) =>
        config.Templates.Keys.FirstOrDefault(k => k.Equals(name, StringComparison.OrdinalIgnoreCase)) ?? name;

    private static CesoException NotRegistered(CesoHome home, string name) =>
        new("TemplateNotRegistered", CesoErrorKind.NotFound,
            $"No template named '{name}' is registered in {CesoConfig.PathOf(home)}. List them with Get-CesoTemplate.")
        { Target = name };

    private static CesoException NotEditable(CesoHome home, string name) =>
        new("ConfigNotEditable", CesoErrorKind.InvalidState,
            $"Ceso could not find the lines of template '{name}' under 'templates:' in {CesoConfig.PathOf(home)} to change them (it only edits block or one-line entries two spaces in). Edit the file by hand.")
        { Target = name };
}
