namespace Ceso.Build.HelpGen;

/// <summary>The help of one cmdlet, read from its markdown file. Text is plain (inline markdown removed).</summary>
public sealed record CmdletHelp
{
    /// <summary>Verb-Noun.</summary>
    public required string Name { get; init; }

    /// <summary>The verb part of <see cref="Name"/>.</summary>
    public string Verb => Name.Split('-', 2)[0];

    /// <summary>The noun part of <see cref="Name"/>.</summary>
    public string Noun => Name.Split('-', 2)[1];

    /// <summary>One line (or paragraph) saying what the cmdlet does.</summary>
    public required string Synopsis { get; init; }

    /// <summary>The DESCRIPTION paragraphs.</summary>
    public required IReadOnlyList<string> Description { get; init; }

    /// <summary>One entry per syntax block (parameter set).</summary>
    public required IReadOnlyList<SyntaxItem> Syntax { get; init; }

    /// <summary>The parameters in the order the PARAMETERS section lists them (common parameters excluded).</summary>
    public required IReadOnlyList<ParameterHelp> Parameters { get; init; }

    /// <summary>The INPUTS types.</summary>
    public required IReadOnlyList<TypeHelp> Inputs { get; init; }

    /// <summary>The OUTPUTS types.</summary>
    public required IReadOnlyList<TypeHelp> Outputs { get; init; }

    /// <summary>The NOTES paragraphs.</summary>
    public required IReadOnlyList<string> Notes { get; init; }

    /// <summary>The EXAMPLES.</summary>
    public required IReadOnlyList<ExampleHelp> Examples { get; init; }

    /// <summary>The RELATED LINKS.</summary>
    public required IReadOnlyList<RelatedLink> Links { get; init; }
}

/// <summary>A parameter as its PARAMETERS entry describes it.</summary>
public sealed record ParameterHelp
{
    /// <summary>The name without the dash.</summary>
    public required string Name { get; init; }

    /// <summary>The description paragraphs.</summary>
    public required IReadOnlyList<string> Description { get; init; }

    /// <summary>The yaml <c>Type</c> (e.g. <c>String[]</c>, <c>SwitchParameter</c>).</summary>
    public required string Type { get; init; }

    /// <summary>The yaml <c>Aliases</c>; empty when none.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>The yaml <c>Required</c>.</summary>
    public bool Required { get; init; }

    /// <summary>The yaml <c>Position</c> as written, or <c>named</c>.</summary>
    public string Position { get; init; } = "named";

    /// <summary>The yaml <c>Default value</c>, or <c>None</c>.</summary>
    public string DefaultValue { get; init; } = "None";

    /// <summary>The yaml <c>Accept pipeline input</c>, e.g. <c>True (ByValue, ByPropertyName)</c>, or <c>False</c>.</summary>
    public string PipelineInput { get; init; } = "False";

    /// <summary>The yaml <c>Accept wildcard characters</c>.</summary>
    public bool Globbing { get; init; }

    /// <summary>The yaml <c>Accepted values</c> (a ValidateSet); empty when any value is accepted.</summary>
    public IReadOnlyList<string> AcceptedValues { get; init; } = [];

    /// <summary>True for a switch, which takes no value on the command line.</summary>
    public bool IsSwitch => Type.Equals("SwitchParameter", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when the parameter takes a list.</summary>
    public bool IsArray => Type.EndsWith("[]", StringComparison.Ordinal);
}

/// <summary>One parameter set as the SYNTAX section writes it.</summary>
/// <param name="SetName">The <c>###</c> heading above the block, if any.</param>
/// <param name="Parameters">The parameters in the order written.</param>
public sealed record SyntaxItem(string? SetName, IReadOnlyList<SyntaxParameter> Parameters);

/// <summary>A parameter inside a syntax block.</summary>
/// <param name="Name">The name without the dash.</param>
/// <param name="Required">Not wrapped in brackets.</param>
/// <param name="Positional">Its name is optional (<c>[-Vm] &lt;T&gt;</c>).</param>
/// <param name="Type">The value type in angle brackets; null for a switch.</param>
public sealed record SyntaxParameter(string Name, bool Required, bool Positional, string? Type);

/// <summary>An INPUTS or OUTPUTS entry.</summary>
/// <param name="Type">The type name (or <c>None</c>).</param>
/// <param name="Description">Paragraphs under it; may be empty.</param>
public sealed record TypeHelp(string Type, IReadOnlyList<string> Description);

/// <summary>An example.</summary>
/// <param name="Title">The heading text, e.g. <c>Example 1: Shut a guest down cleanly</c>.</param>
/// <param name="Code">The code blocks, joined by a blank line.</param>
/// <param name="Remarks">Text outside the code blocks.</param>
public sealed record ExampleHelp(string Title, string Code, IReadOnlyList<string> Remarks);

/// <summary>A related link: a cmdlet or topic name, and a URL when the link is absolute.</summary>
/// <param name="Text">The link text.</param>
/// <param name="Uri">An http(s) address, or empty for a topic in the same module.</param>
public sealed record RelatedLink(string Text, string Uri);
