using System.Text;
using System.Text.RegularExpressions;
using Ceso.Engine.Connection;

namespace Ceso.Engine.Configuration;

/// <summary>
/// Line edits of $CESO_HOME/config.yaml that leave the rest of the file as the user wrote it (comments, order, other
/// sections): add an entry under a section, replace or add fields of one entry, remove one entry. Every edit is written
/// to a temporary file that must read back (<see cref="CesoConfig.LoadFile"/>) with the change before it replaces
/// config.yaml, so a failed edit never leaves a broken file. Used by <see cref="RepositoryRegistry"/> and
/// <see cref="TemplateRegistry"/>.
/// </summary>
internal static partial class ConfigYaml
{
    /// <summary>The file's lines (none when it does not exist).</summary>
    public static List<string> Read(CesoHome home)
    {
        var path = CesoConfig.PathOf(home);
        return File.Exists(path) ? [.. File.ReadAllLines(path)] : [];
    }

    /// <summary>
    /// Adds an entry (its lines, already indented: <c>"  name:"</c>, <c>"    key: value"</c>) at the end of
    /// <paramref name="section"/>; the section is appended when there is none (and an empty <c>section: {}</c> opened).
    /// </summary>
    public static void AddEntry(List<string> lines, string section, IReadOnlyList<string> entry)
    {
        var at = lines.FindIndex(l => l.TrimEnd() == section + ":" || l.TrimEnd() == section + ": {}");
        if (at < 0)
        {
            lines.Add(section + ":");
            lines.AddRange(entry);
            return;
        }

        lines[at] = section + ":";
        // Blank lines and column-0 comments at the end of the section belong to what follows it.
        var end = SectionEnd(lines, at);
        while (end > at + 1 && (lines[end - 1].Trim().Length == 0 || lines[end - 1].StartsWith('#')))
        {
            end--;
        }

        lines.InsertRange(end, entry);
    }

    /// <summary>
    /// The lines <c>[Start, End)</c> of entry <paramref name="name"/> (matched case-insensitively, as the registry
    /// reads names) in <paramref name="section"/>, or null. The range ends before trailing blank lines and before
    /// comments at the entry's own indent (those belong to what follows).
    /// </summary>
    public static (int Start, int End)? FindEntry(List<string> lines, string section, string name)
    {
        var at = lines.FindIndex(l => l.TrimEnd() == section + ":");
        if (at < 0)
        {
            return null;
        }

        var end = SectionEnd(lines, at);
        var indent = -1;
        for (var i = at + 1; i < end; i++)
        {
            if (IsContent(lines[i]))
            {
                indent = Indent(lines[i]);
                break;
            }
        }

        for (var i = at + 1; i < end; i++)
        {
            if (!IsContent(lines[i]) || Indent(lines[i]) != indent || KeyOf(lines[i]) is not { } key || !key.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var stop = i + 1;
            while (stop < end && (!IsContent(lines[stop]) || Indent(lines[stop]) > indent))
            {
                stop++;
            }

            while (stop > i + 1 && (lines[stop - 1].Trim().Length == 0 || (lines[stop - 1].TrimStart().StartsWith('#') && Indent(lines[stop - 1]) <= indent)))
            {
                stop--;
            }

            return (i, stop);
        }

        return null;
    }

    /// <summary>Whether the entry starting at <paramref name="start"/> is written in flow style (<c>name: { vm: x }</c>).</summary>
    public static bool IsFlow(List<string> lines, int start)
    {
        var line = lines[start];
        var colon = ColonOf(line);
        return colon >= 0 && line[(colon + 1)..].Trim() is { Length: > 0 } rest && !rest.StartsWith('#');
    }

    /// <summary>
    /// Sets <paramref name="key"/> to <paramref name="value"/> in the block-style entry <c>[start, end)</c>: the
    /// key's line is replaced where it is, or a new line is added at the end of the entry. Returns the new end.
    /// </summary>
    public static int SetField(List<string> lines, int start, int end, string key, string value)
    {
        var fieldIndent = new string(' ', Indent(lines[start]) + 2);
        for (var i = start + 1; i < end; i++)
        {
            if (IsContent(lines[i]) && KeyOf(lines[i]) is { } k && k.Equals(key, StringComparison.Ordinal))
            {
                lines[i] = new string(' ', Indent(lines[i])) + key + ": " + value;
                return end;
            }

            if (IsContent(lines[i]))
            {
                fieldIndent = new string(' ', Indent(lines[i]));
            }
        }

        lines.Insert(end, fieldIndent + key + ": " + value);
        return end + 1;
    }

    /// <summary>
    /// Writes <paramref name="lines"/> to a temporary file, checks it with <paramref name="verify"/> on what it reads
    /// back, and only then renames it over config.yaml.
    /// </summary>
    public static void Save(CesoHome home, List<string> lines, Action<CesoConfig> verify)
    {
        var path = CesoConfig.PathOf(home);
        Directory.CreateDirectory(home.Path);
        var temp = path + ".ceso-tmp";
        File.WriteAllText(temp, lines.Count == 0 ? "" : string.Join('\n', lines) + "\n", new UTF8Encoding(false));
        try
        {
            verify(CesoConfig.LoadFile(temp));
        }
        catch
        {
            File.Delete(temp);
            throw;
        }

        File.Move(temp, path, true);
    }

    /// <summary>A YAML double-quoted scalar: backslash and quote escaped (control characters are refused upstream).</summary>
    public static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    /// <summary>Whether a name can be a registry key as Ceso writes it (unquoted, one line).</summary>
    public static bool IsName(string name) => NamePattern().IsMatch(name);

    // A section runs until the next line at column 0 that is neither blank nor a comment.
    private static int SectionEnd(List<string> lines, int section)
    {
        var end = section + 1;
        while (end < lines.Count && (lines[end].Length == 0 || lines[end][0] is ' ' or '#' || lines[end].Trim().Length == 0))
        {
            end++;
        }

        return end;
    }

    private static bool IsContent(string line) => line.Trim() is { Length: > 0 } t && !t.StartsWith('#');

    private static int Indent(string line) => line.Length - line.TrimStart(' ').Length;

    private static int ColonOf(string line) => KeyLine().Match(line) is { Success: true } m ? m.Groups["colon"].Index : -1;

    private static string? KeyOf(string line) => KeyLine().Match(line) is { Success: true } m ? m.Groups["key"].Value : null;

    [GeneratedRegex("""^\s*(?:"(?<key>[^"]*)"|'(?<key>[^']*)'|(?<key>[^\s:#"'][^:#]*?))\s*(?<colon>:)(?:\s|$)""")]
    private static partial Regex KeyLine();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();
}
