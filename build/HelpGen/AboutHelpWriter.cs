using System.Text;
using System.Text.RegularExpressions;

namespace Ceso.Build.HelpGen;

/// <summary>
/// Turns an about topic written in markdown (<c># about_X</c>, <c>## SHORT DESCRIPTION</c>, <c>## LONG DESCRIPTION</c>,
/// more <c>##</c> sections, <c>###</c> subsections) into the plain text of <c>about_X.help.txt</c>: section names in
/// capitals at the margin, text indented four spaces and wrapped at <see cref="Width"/> columns, code indented eight.
/// </summary>
public static partial class AboutHelpWriter
{
    /// <summary>The widest line written (prose always; a code line only when it cannot be broken).</summary>
    public const int Width = 80;

    /// <summary>The help text; throws <see cref="HelpDocException"/> when the topic or a description is missing.</summary>
    /// <param name="file">The name used in problem reports.</param>
    /// <param name="markdown">The topic's markdown.</param>
    public static string ToText(string file, string markdown)
    {
        var blocks = Markdown.Parse(markdown);
        var problems = new List<HelpDocProblem>();
        var topic = blocks.OfType<Heading>().FirstOrDefault(h => h.Level == 1)?.Text;
        if (topic is null || !topic.StartsWith("about_", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add(new HelpDocProblem(file, "title", "the file must start with '# about_Name'."));
        }

        foreach (var required in new[] { "SHORT DESCRIPTION", "LONG DESCRIPTION" })
        {
            var heading = blocks.OfType<Heading>().FirstOrDefault(h => h.Level == 2 && h.Text.Equals(required, StringComparison.OrdinalIgnoreCase));
            var index = heading is null ? -1 : IndexOf(blocks, heading);
            var body = index < 0 ? [] : blocks.Skip(index + 1).TakeWhile(b => b is not Heading { Level: <= 2 }).ToList();
            if (body.All(b => b is Heading))
            {
                problems.Add(new HelpDocProblem(file, required, "missing or empty."));
            }
        }

        if (problems.Count > 0)
        {
            throw new HelpDocException(problems);
        }

        var text = new StringBuilder();
        text.Append("TOPIC\n");
        text.Append("    ").Append(topic).Append("\n\n");
        var first = true;
        foreach (var block in blocks)
        {
            switch (block)
            {
                case Heading { Level: 1 }:
                    break;
                case Heading { Level: 2 } h:
                    if (!first)
                    {
                        text.Append('\n');
                    }

                    text.Append(h.Text.ToUpperInvariant()).Append('\n');
                    first = false;
                    break;
                case Heading h:
                    text.Append('\n').Append("  ").Append(Markdown.ToPlainText(h.Text)).Append('\n');
                    break;
                case Paragraph p:
                    Wrap(text, Markdown.ToPlainText(p.Text), "    ", "    ");
                    text.Append('\n');
                    break;
                case ListItem l:
                    Wrap(text, Markdown.ToPlainText(l.Text), $"    {l.Marker} ", new string(' ', 5 + l.Marker.Length));
                    break;
                case CodeBlock c:
                    foreach (var line in c.Code.Split('\n'))
                    {
                        WrapCode(text, line, c.Language, "        ");
                    }

                    text.Append('\n');
                    break;
            }
        }

        // One blank line between blocks, however the markdown spaced them; no trailing blank lines.
        var result = BlankRuns().Replace(text.ToString(), "\n\n").TrimEnd('\n') + "\n";
        return result.Replace("\n", Environment.NewLine, StringComparison.Ordinal);
    }

    private static int IndexOf(IReadOnlyList<Block> blocks, Block block)
    {
        for (var i = 0; i < blocks.Count; i++)
        {
            if (ReferenceEquals(blocks[i], block))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Greedy word wrap: the first line starts with <paramref name="first"/>, the rest with <paramref name="rest"/>.</summary>
    private static void Wrap(StringBuilder text, string paragraph, string first, string rest)
    {
        var line = new StringBuilder(first);
        var empty = true;
        foreach (var word in paragraph.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!empty && line.Length + 1 + word.Length > Width)
            {
                text.Append(line).Append('\n');
                line.Clear().Append(rest);
                empty = true;
            }

            if (!empty)
            {
                line.Append(' ');
            }

            line.Append(word);
            empty = false;
        }

        text.Append(line).Append('\n');
    }

    /// <summary>
    /// A PowerShell line longer than the width is broken before a parameter (<c> -Name</c>) with a backtick, which
    /// keeps it runnable; other code is written as it is.
    /// </summary>
    private static void WrapCode(StringBuilder text, string line, string language, string indent)
    {
        var powershell = language.Length == 0 || language.Equals("powershell", StringComparison.OrdinalIgnoreCase) || language.Equals("pwsh", StringComparison.OrdinalIgnoreCase);
        var prefix = indent;
        while (powershell && prefix.Length + line.Length > Width)
        {
            var limit = Width - prefix.Length - 2; // room for " `"
            var cut = -1;
            for (var i = line.IndexOf(" -", StringComparison.Ordinal); i > 0 && i <= limit; i = line.IndexOf(" -", i + 1, StringComparison.Ordinal))
            {
                cut = i;
            }

            if (cut <= 0)
            {
                break;
            }

            text.Append(prefix).Append(line[..cut]).Append(" `\n");
            line = line[(cut + 1)..];
            prefix = indent + "    ";
        }

        text.Append(line.Length == 0 ? "" : prefix + line).Append('\n');
    }

    [GeneratedRegex(@"\n{3,}")]
    private static partial Regex BlankRuns();
}
