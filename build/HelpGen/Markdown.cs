using System.Text;
using System.Text.RegularExpressions;

namespace Ceso.Build.HelpGen;

/// <summary>A block of a markdown document.</summary>
public abstract record Block;

/// <summary>An ATX heading (<c>## SYNOPSIS</c>).</summary>
/// <param name="Level">The number of <c>#</c>.</param>
/// <param name="Text">The heading text, trimmed.</param>
public sealed record Heading(int Level, string Text) : Block;

/// <summary>A paragraph; its source lines joined with single spaces, inline markdown kept.</summary>
/// <param name="Text">The paragraph text.</param>
public sealed record Paragraph(string Text) : Block;

/// <summary>One item of a bullet or numbered list, continuation lines joined.</summary>
/// <param name="Marker">The list marker as written (<c>-</c>, <c>*</c>, <c>1.</c>).</param>
/// <param name="Text">The item text.</param>
public sealed record ListItem(string Marker, string Text) : Block;

/// <summary>A fenced code block.</summary>
/// <param name="Language">The info string after the opening fence (may be empty).</param>
/// <param name="Code">The lines between the fences, joined with <c>\n</c>.</param>
public sealed record CodeBlock(string Language, string Code) : Block;

/// <summary>
/// The subset of markdown the help documents use: YAML front matter (skipped), ATX headings, paragraphs, lists and
/// fenced code. Headings inside code fences are code, not headings.
/// </summary>
public static partial class Markdown
{
    /// <summary>Splits a document into blocks.</summary>
    public static IReadOnlyList<Block> Parse(string markdown)
    {
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var blocks = new List<Block>();
        var i = 0;
        if (lines.Length > 0 && lines[0].Trim() == "---")
        {
            // platyPS front matter (external help file, Module Name, schema): metadata for tools, not help text.
            for (i = 1; i < lines.Length && lines[i].Trim() != "---"; i++)
            {
            }

            i++;
        }

        var paragraph = new List<string>();
        string? itemMarker = null;

        void Flush()
        {
            if (paragraph.Count > 0)
            {
                var text = string.Join(' ', paragraph.Select(l => l.Trim()));
                blocks.Add(itemMarker is null ? new Paragraph(text) : new ListItem(itemMarker, text));
            }

            paragraph.Clear();
            itemMarker = null;
        }

        for (; i < lines.Length; i++)
        {
            var line = lines[i];
            var trimmed = line.Trim();
            if (trimmed.StartsWith("```", StringComparison.Ordinal))
            {
                Flush();
                var language = trimmed[3..].Trim();
                var indent = line.Length - line.TrimStart().Length;
                var code = new List<string>();
                for (i++; i < lines.Length && !lines[i].Trim().StartsWith("```", StringComparison.Ordinal); i++)
                {
                    code.Add(Unindent(lines[i], indent).TrimEnd());
                }

                blocks.Add(new CodeBlock(language, string.Join('\n', code)));
                continue;
            }

            if (HeadingLine().Match(line) is { Success: true } heading)
            {
                Flush();
                blocks.Add(new Heading(heading.Groups[1].Length, heading.Groups[2].Value.Trim()));
                continue;
            }

            if (trimmed.Length == 0)
            {
                Flush();
                continue;
            }

            if (ListLine().Match(line) is { Success: true } item)
            {
                Flush();
                itemMarker = item.Groups[1].Value;
                paragraph.Add(item.Groups[2].Value);
                continue;
            }

            paragraph.Add(line);
        }

        Flush();
        return blocks;
    }

    /// <summary>
    /// Inline markdown turned into plain text: links keep their text (and an absolute URL in parentheses), code spans
    /// and strong emphasis lose their markers, backslash escapes are resolved. Text inside code spans is kept as is.
    /// </summary>
    public static string ToPlainText(string inline)
    {
        var text = new StringBuilder();
        var parts = inline.Split('`');
        for (var p = 0; p < parts.Length; p++)
        {
            // Odd parts are code spans (an unmatched backtick leaves its text as ordinary text, which is close enough).
            if (p % 2 == 1 && p < parts.Length - 1)
            {
                text.Append(parts[p]);
                continue;
            }

            var part = parts[p];
            part = Link().Replace(part, m => m.Groups[2].Value.StartsWith("http", StringComparison.OrdinalIgnoreCase)
                ? $"{m.Groups[1].Value} ({m.Groups[2].Value})"
                : m.Groups[1].Value);
            part = Strong().Replace(part, "$2");
            part = Escape().Replace(part, "$1");
            text.Append(part);
        }

        return text.ToString();
    }

    private static string Unindent(string line, int indent)
    {
        var remove = 0;
        while (remove < indent && remove < line.Length && line[remove] == ' ')
        {
            remove++;
        }

        return line[remove..];
    }

    [GeneratedRegex(@"^(#{1,6})\s+(.*?)\s*#*\s*$")]
    private static partial Regex HeadingLine();

    [GeneratedRegex(@"^\s{0,3}([-*+]|\d+[.)])\s+(.*)$")]
    private static partial Regex ListLine();

    [GeneratedRegex(@"\[([^\]]+)\]\(([^)\s]*)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"(\*\*|__)(.+?)\1")]
    private static partial Regex Strong();

    [GeneratedRegex(@"\\([\\`*_{}\[\]()#+\-.!<>|])")]
    private static partial Regex Escape();
}
