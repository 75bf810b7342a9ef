using System.Text.RegularExpressions;

namespace Ceso.Build.HelpGen;

/// <summary>
/// Reads a platyPS-style cmdlet help file (<c># Verb-Noun</c>, then <c>## SYNOPSIS</c>, <c>## SYNTAX</c>,
/// <c>## DESCRIPTION</c>, <c>## EXAMPLES</c>, <c>## PARAMETERS</c>, <c>## INPUTS</c>, <c>## OUTPUTS</c>,
/// <c>## NOTES</c>, <c>## RELATED LINKS</c>) into a <see cref="CmdletHelp"/>, and reports every gap that would leave
/// Get-Help without text: a missing synopsis, description or example, a parameter without a description.
/// </summary>
public static partial class CmdletHelpParser
{
    /// <summary>Parses one file; throws <see cref="HelpDocException"/> listing every problem in it.</summary>
    /// <param name="file">The name used in problem reports (usually the path).</param>
    /// <param name="markdown">The file's text.</param>
    public static CmdletHelp Parse(string file, string markdown)
    {
        var problems = new List<HelpDocProblem>();
        var help = Parse(file, markdown, problems);
        if (problems.Count > 0)
        {
            throw new HelpDocException(problems);
        }

        return help!;
    }

    /// <summary>Parses one file, adding problems to <paramref name="problems"/>; null when the file has no title.</summary>
    public static CmdletHelp? Parse(string file, string markdown, List<HelpDocProblem> problems)
    {
        var blocks = Markdown.Parse(markdown);
        void Problem(string section, string message) => problems.Add(new HelpDocProblem(file, section, message));

        var title = blocks.OfType<Heading>().FirstOrDefault(h => h.Level == 1)?.Text;
        if (title is null || !title.Contains('-', StringComparison.Ordinal))
        {
            Problem("title", "the file must start with '# Verb-Noun' (the cmdlet name).");
            return null;
        }

        var expected = Path.GetFileNameWithoutExtension(file);
        if (!string.Equals(expected, title, StringComparison.OrdinalIgnoreCase) && expected.Contains('-', StringComparison.Ordinal))
        {
            Problem("title", $"the heading names '{title}' but the file is {Path.GetFileName(file)}.");
        }

        var sections = Sections(blocks, 2);
        IReadOnlyList<Block> Section(string name) => sections.TryGetValue(name, out var s) ? s : [];

        var synopsis = Paragraphs(Section("SYNOPSIS"));
        if (synopsis.Count == 0)
        {
            Problem("SYNOPSIS", "missing or empty: write one sentence saying what the cmdlet does.");
        }

        var description = Paragraphs(Section("DESCRIPTION"));
        if (description.Count == 0)
        {
            Problem("DESCRIPTION", "missing or empty: describe what the cmdlet does, what it checks and what it changes.");
        }

        var parameters = ParseParameters(Section("PARAMETERS"), Problem);
        var syntax = ParseSyntax(Section("SYNTAX"), parameters, Problem);
        var examples = ParseExamples(Section("EXAMPLES"), Problem);

        return new CmdletHelp
        {
            Name = title,
            Synopsis = string.Join(' ', synopsis),
            Description = description,
            Syntax = syntax,
            Parameters = parameters,
            Inputs = ParseTypes(Section("INPUTS")),
            Outputs = ParseTypes(Section("OUTPUTS")),
            Notes = Paragraphs(Section("NOTES")),
            Examples = examples,
            Links = ParseLinks(Section("RELATED LINKS")),
        };
    }

    /// <summary>
    /// Blocks turned into help paragraphs: paragraphs and list items as plain text, code blocks verbatim. Get-Help
    /// prints each paragraph separately.
    /// </summary>
    public static IReadOnlyList<string> Paragraphs(IEnumerable<Block> blocks) => blocks
        .Select(b => b switch
        {
            Paragraph p => Markdown.ToPlainText(p.Text),
            ListItem l => $"{l.Marker} {Markdown.ToPlainText(l.Text)}",
            CodeBlock c => c.Code,
            _ => "",
        })
        .Where(t => t.Trim().Length > 0)
        .ToList();

    private static Dictionary<string, List<Block>> Sections(IReadOnlyList<Block> blocks, int level)
    {
        var sections = new Dictionary<string, List<Block>>(StringComparer.OrdinalIgnoreCase);
        List<Block>? current = null;
        foreach (var block in blocks)
        {
            if (block is Heading h && h.Level <= level)
            {
                current = h.Level == level ? sections[h.Text] = [] : null;
                continue;
            }

            current?.Add(block);
        }

        return sections;
    }

    /// <summary>The blocks under each heading of <paramref name="level"/>, in order; blocks before the first are dropped.</summary>
    private static List<(string Title, List<Block> Blocks)> Subsections(IReadOnlyList<Block> blocks, int level)
    {
        var result = new List<(string, List<Block>)>();
        foreach (var block in blocks)
        {
            if (block is Heading h && h.Level == level)
            {
                result.Add((h.Text, []));
            }
            else if (result.Count > 0)
            {
                result[^1].Item2.Add(block);
            }
        }

        return result;
    }

    private static List<ParameterHelp> ParseParameters(IReadOnlyList<Block> section, Action<string, string> problem)
    {
        var parameters = new List<ParameterHelp>();
        foreach (var (title, blocks) in Subsections(section, 3))
        {
            if (title.Equals("CommonParameters", StringComparison.OrdinalIgnoreCase))
            {
                continue; // Get-Help describes the common parameters itself
            }

            var where = $"PARAMETERS {title}";
            if (!title.StartsWith('-') || title.Contains(',', StringComparison.Ordinal) || title.Contains(' ', StringComparison.Ordinal))
            {
                problem(where, "a parameter heading must be '### -Name', one parameter per heading (Get-Help -Parameter reads each on its own).");
                continue;
            }

            var yaml = blocks.OfType<CodeBlock>().FirstOrDefault(c => c.Language.Equals("yaml", StringComparison.OrdinalIgnoreCase));
            var description = Paragraphs(blocks.TakeWhile(b => b != yaml));
            if (description.Count == 0)
            {
                problem(where, "no description: say what the parameter does and its default.");
            }

            var fields = yaml is null ? [] : YamlFields(yaml.Code);
            if (!fields.TryGetValue("Type", out var type))
            {
                problem(where, "no yaml block with a 'Type:' line.");
                type = "Object";
            }

            string Field(string key, string fallback) => fields.TryGetValue(key, out var v) && v.Length > 0 ? v : fallback;
            parameters.Add(new ParameterHelp
            {
                Name = title[1..],
                Description = description,
                Type = type,
                Aliases = List(Field("Aliases", "")),
                Required = Field("Required", "False").StartsWith("True", StringComparison.OrdinalIgnoreCase),
                Position = Field("Position", "named"),
                DefaultValue = Field("Default value", "None"),
                PipelineInput = Field("Accept pipeline input", "False"),
                Globbing = Field("Accept wildcard characters", "False").StartsWith("True", StringComparison.OrdinalIgnoreCase),
                AcceptedValues = List(Field("Accepted values", "")),
            });
        }

        return parameters;
    }

    private static Dictionary<string, string> YamlFields(string yaml)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in yaml.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                fields[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }

        return fields;
    }

    private static List<string> List(string value) =>
        value.Length == 0 || value.Equals("None", StringComparison.OrdinalIgnoreCase)
            ? []
            : value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();

    private static List<SyntaxItem> ParseSyntax(IReadOnlyList<Block> section, List<ParameterHelp> parameters, Action<string, string> problem)
    {
        var items = new List<SyntaxItem>();
        string? setName = null;
        foreach (var block in section)
        {
            if (block is Heading { Level: 3 } h)
            {
                setName = h.Text.Replace("(Default)", "", StringComparison.OrdinalIgnoreCase).Trim();
                continue;
            }

            if (block is not CodeBlock code)
            {
                continue;
            }

            // The first word is the cmdlet name, whose own dash must not read as a parameter.
            var line = string.Join(' ', code.Code.Split('\n').Select(l => l.Trim())).Trim();
            line = line.Contains(' ', StringComparison.Ordinal) ? line[line.IndexOf(' ', StringComparison.Ordinal)..] : "";
            var used = new List<SyntaxParameter>();
            foreach (Match m in SyntaxToken().Matches(line))
            {
                var name = m.Groups["name"].Value;
                var brackets = m.Groups["open"].Length;
                var nameClosed = m.Groups["nameClose"].Success;
                var type = m.Groups["type"].Success ? m.Groups["type"].Value : null;
                // -Name <T> is required; [-Name] <T> is required but its name may be left out; [[-Name] <T>] is
                // optional and positional; [-Name <T>] and [-Switch] are optional.
                var requiredPositional = brackets == 1 && nameClosed && type is not null && !m.Groups["tailClose"].Success;
                var required = brackets == 0 || requiredPositional;
                var positional = brackets == 2 || requiredPositional;

                used.Add(new SyntaxParameter(name, required, positional, type));
                if (!parameters.Any(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
                {
                    problem("SYNTAX", $"-{name} is in the syntax but has no entry under PARAMETERS.");
                }
            }

            items.Add(new SyntaxItem(setName, used));
            setName = null;
        }

        if (items.Count == 0)
        {
            problem("SYNTAX", "missing: write the syntax of each parameter set in a code block.");
        }

        return items;
    }

    private static List<ExampleHelp> ParseExamples(IReadOnlyList<Block> section, Action<string, string> problem)
    {
        var examples = new List<ExampleHelp>();
        foreach (var (title, blocks) in Subsections(section, 3))
        {
            var code = string.Join("\n\n", blocks.OfType<CodeBlock>().Select(c => c.Code));
            if (code.Trim().Length == 0)
            {
                problem($"EXAMPLES {title}", "the example has no code block.");
                continue;
            }

            examples.Add(new ExampleHelp(title, code, Paragraphs(blocks.Where(b => b is not CodeBlock))));
        }

        if (examples.Count == 0)
        {
            problem("EXAMPLES", "no example: add '### Example 1: …' with a code block.");
        }

        return examples;
    }

    private static List<TypeHelp> ParseTypes(IReadOnlyList<Block> section) =>
        Subsections(section, 3).Select(s => new TypeHelp(Markdown.ToPlainText(s.Title), Paragraphs(s.Blocks))).ToList();

    private static List<RelatedLink> ParseLinks(IReadOnlyList<Block> section)
    {
        var links = new List<RelatedLink>();
        foreach (var block in section)
        {
            var text = block switch { Paragraph p => p.Text, ListItem l => l.Text, _ => "" };
            var found = LinkToken().Matches(text);
            if (found.Count == 0 && text.Trim().Length > 0)
            {
                links.Add(new RelatedLink(Markdown.ToPlainText(text.Trim()), ""));
            }

            foreach (Match m in found)
            {
                var target = m.Groups[2].Value;
                links.Add(new RelatedLink(m.Groups[1].Value, target.StartsWith("http", StringComparison.OrdinalIgnoreCase) ? target : ""));
            }
        }

        return links;
    }

    [GeneratedRegex(@"(?<=^|\s)(?<open>\[{0,2})-(?<name>[A-Za-z]\w*)(?<nameClose>\])?(?:\s+<(?<type>[^>]+)>)?(?<tailClose>\])?")]
    private static partial Regex SyntaxToken();

    [GeneratedRegex(@"\[([^\]]+)\]\(([^)\s]*)\)")]
    private static partial Regex LinkToken();
}
