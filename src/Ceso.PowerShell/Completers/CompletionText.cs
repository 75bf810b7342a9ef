namespace Ceso.PowerShell.Completers;

/// <summary>Quoting of completion text: names may contain spaces (ESXi allows 'web 01').</summary>
internal static class CompletionText
{
    /// <summary>What was typed, without an opening or closing quote.</summary>
    public static string Unquote(string? word) => (word ?? "").Trim('\'', '"');

    /// <summary>The name as a single-quoted PowerShell string when it needs quoting.</summary>
    public static string Quote(string name) =>
        name.Length > 0 && name.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.')
            ? name
            : "'" + name.Replace("'", "''", StringComparison.Ordinal) + "'";
}
