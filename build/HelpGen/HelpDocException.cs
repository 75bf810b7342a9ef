namespace Ceso.Build.HelpGen;

/// <summary>One thing wrong with a help document: the file, the section and what is missing or malformed.</summary>
/// <param name="File">The markdown file (as given to the parser).</param>
/// <param name="Section">The section the problem is in, e.g. <c>SYNOPSIS</c> or <c>PARAMETERS -Kill</c>.</param>
/// <param name="Message">What is wrong and what to write instead.</param>
public sealed record HelpDocProblem(string File, string Section, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{File}: {Section}: {Message}";
}

/// <summary>Thrown when help documents are incomplete; carries every problem found, not only the first.</summary>
public sealed class HelpDocException : Exception
{
    /// <summary>Creates the exception from the problems found.</summary>
    public HelpDocException(IReadOnlyList<HelpDocProblem> problems)
        : base($"{problems.Count} problem(s) in the help documents:{Environment.NewLine}" + string.Join(Environment.NewLine, problems))
    {
        Problems = problems;
    }

    /// <summary>Every problem found.</summary>
    public IReadOnlyList<HelpDocProblem> Problems { get; }
}
