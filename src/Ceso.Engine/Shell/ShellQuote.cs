using System.Text;

namespace Ceso.Engine.Shell;

/// <summary>
/// The one place where text for a remote POSIX shell (ESXi's busybox ash, /bin/sh) is built.
/// Every argument is single-quoted; inside single quotes no character is special except the quote itself,
/// which is written as <c>'\''</c>. No other code builds shell text by concatenating user input.
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
