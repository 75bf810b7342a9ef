using System.Text;

namespace Ceso.Engine.Shell;

/// <summary>
/// The one place where text for a remote POSIX shell (ESXi's busybox ash, /bin/sh) is built.
/// Every argument is single-quoted; inside single quotes no character is special except the quote itself,
/// which is written as <c>'\''</c>. No other code builds shell text by concatenating user input; sequences of
/// commands (<c>&amp;&amp;</c>, redirections) are built with <see cref="ShellCommandLine"/>.
/// </summary>
public static class ShellQuote
{
    /// <summary>Quotes one argument so that the remote shell passes it through unchanged as one word.</summary>
    /// <exception cref="ArgumentException">The text holds a NUL character, which no shell word can carry.</exception>
    public static string Quote(string argument)
    {
        ArgumentNullException.ThrowIfNull(argument);
        if (argument.Contains('\0'))
        {
            throw new ArgumentException("A shell argument cannot contain a NUL character; remove it from the name or value.", nameof(argument));
        }

        if (argument.Length > 0 && IsPlain(argument))
        {
            return argument;
        }

        var sb = new StringBuilder(argument.Length + 8).Append('\'');
        foreach (var c in argument)
        {
            if (c == '\'')
            {
                sb.Append("'\\''");
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.Append('\'').ToString();
    }

    /// <summary>Builds a command line from a program and its arguments, each quoted.</summary>
    public static string Join(string program, params string[] arguments)
    {
        var sb = new StringBuilder(Quote(program));
        foreach (var a in arguments)
        {
            sb.Append(' ').Append(Quote(a));
        }

        return sb.ToString();
    }

    // Characters that need no quoting anywhere in a word; keeps command lines readable in -WhatIf and the audit log.
    private static bool IsPlain(string s)
    {
        foreach (var c in s)
        {
            var ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9')
                or '-' or '_' or '.' or '/' or ':' or ',' or '+' or '@' or '%';
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// A shell command line made only of quoted words and a fixed set of operators (<c>&amp;&amp;</c>, <c>||</c>,
/// <c>;</c>, <c>|</c>, <c>&gt; file</c> and <c>2&gt;/dev/null</c>): the way to build a sequence of commands without
/// concatenating shell text.
/// Immutable; every method returns a new line. <see cref="ToString"/> is the text to send.
/// </summary>
public sealed class ShellCommandLine
{
    private readonly string _text;

    private ShellCommandLine(string text) => _text = text;

    /// <summary>A line of one command: the program and its arguments, each quoted.</summary>
    public static ShellCommandLine Of(string program, params string[] arguments) => new(ShellQuote.Join(program, arguments));

    /// <summary>Then runs the command when this line succeeded (<c>&amp;&amp;</c>).</summary>
    public ShellCommandLine And(string program, params string[] arguments) => Append("&&", program, arguments);

    /// <summary>Then runs the command when this line failed (<c>||</c>).</summary>
    public ShellCommandLine Or(string program, params string[] arguments) => Append("||", program, arguments);

    /// <summary>Then runs the command whatever this line ended with (<c>;</c>).</summary>
    public ShellCommandLine Then(string program, params string[] arguments) => Append(";", program, arguments);

    /// <summary>Feeds this line's output to the command (<c>|</c>).</summary>
    public ShellCommandLine Pipe(string program, params string[] arguments) => Append("|", program, arguments);

    /// <summary>Then runs <paramref name="next"/> when this line succeeded (<c>&amp;&amp;</c>); pipelines bind tighter than it.</summary>
    public ShellCommandLine And(ShellCommandLine next) => new($"{_text} && {next._text}");

    /// <summary>Sends the last command's standard error to /dev/null (<c>2&gt;/dev/null</c>); its exit code still counts.</summary>
    public ShellCommandLine DiscardErrors() => new($"{_text} 2>/dev/null");

    /// <summary>Writes the last command's standard output to <paramref name="file"/> (<c>&gt; file</c>, created or truncated).</summary>
    public ShellCommandLine WriteTo(string file) => new($"{_text} > {ShellQuote.Quote(file)}");

    /// <summary>Appends the last command's standard output to <paramref name="file"/> (<c>&gt;&gt; file</c>).</summary>
    public ShellCommandLine AppendTo(string file) => new($"{_text} >> {ShellQuote.Quote(file)}");

    /// <summary>
    /// Then (<c>&amp;&amp;</c>) tells ESXi's busybox crond to re-read the crontabs: <c>kill -HUP "$(cat /var/run/crond.pid)"</c>
    /// (constant text: a command substitution, which quoting would turn into a word).
    /// </summary>
    public ShellCommandLine AndReloadCrond() => new($"{_text} && {ReloadCrond}");

    /// <summary>The command that makes ESXi's crond re-read the crontabs after an edit (as ESXi backup schedulers document).</summary>
    public const string ReloadCrond = "kill -HUP \"$(cat /var/run/crond.pid)\"";

    /// <summary>The command line as the shell receives it.</summary>
    public override string ToString() => _text;

    private ShellCommandLine Append(string op, string program, string[] arguments) => new($"{_text} {op} {ShellQuote.Join(program, arguments)}");
}
