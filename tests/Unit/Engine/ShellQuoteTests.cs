using System.Diagnostics;
using System.Text;
using Ceso.Engine.Shell;

namespace Ceso.Tests.Engine;

public class ShellQuoteTests
{
    [Theory]
    [InlineData("web01", "web01")]
    [InlineData("", "''")]
    [InlineData("a b", "'a b'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("$(reboot)", "'$(reboot)'")]
    [InlineData("a=b", "'a=b'")]
    [InlineData("~root", "'~root'")]
    public void Quote_produces_the_expected_word(string input, string expected) =>
        Assert.Equal(expected, ShellQuote.Quote(input));

    [Fact]
    public void Quote_refuses_a_nul_character_with_a_message_that_says_so()
    {
        var e = Assert.Throws<ArgumentException>(() => ShellQuote.Quote("a\0b"));
        Assert.Contains("NUL", e.Message);
    }

    [Fact]
    public void Join_quotes_the_program_and_every_argument() =>
        Assert.Equal("vim-cmd vmsvc/get.config 'my vm'", ShellQuote.Join("vim-cmd", "vmsvc/get.config", "my vm"));

    [Fact]
    public void Generated_names_round_trip_through_a_local_posix_shell_unchanged_and_run_nothing()
    {
        var canary = Path.Combine(Path.GetTempPath(), "ceso-canary-" + Guid.NewGuid().ToString("N"));
        var names = HostileNames.Generate(2000, seed: 7, canary).ToList();
        var script = "printf '%s\\0' " + string.Join(' ', names.Select(ShellQuote.Quote)) + "\n";
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false, StandardOutputEncoding = Encoding.UTF8 };
        using var p = Process.Start(psi)!;
        var stdin = new StreamWriter(p.StandardInput.BaseStream, new UTF8Encoding(false));
        stdin.Write(script);
        stdin.Close();
        var output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(30_000));

        var back = output.Split('\0')[..^1];
        Assert.Equal(names.Count, back.Length);
        for (var i = 0; i < names.Count; i++)
        {
            Assert.Equal(names[i], back[i]);
        }

        Assert.False(File.Exists(canary), "a quoted name executed a command");
    }
}

/// <summary>Names built from everything a shell treats specially, plus unicode, for property tests.</summary>
public static class HostileNames
{
    private static readonly string[] Pieces =
    [
        "'", "\"", "$", "`", ";", "|", "&", "\n", "\r", "\t", " ", "\\", "*", "?", "[", "]", "{", "}", "(", ")", "<", ">",
        "#", "!", "~", "=", "%", "^", ",", "-", "--", "é", "日本", "ß", "😀", "\u00a0", "$HOME", "${IFS}", "$(id)", "`id`",
        "a", "b", "web", "01", ".", "/", ":", "@", "+",
    ];

    public static IEnumerable<string> Generate(int count, int seed, string canaryPath)
    {
        var rng = new Random(seed);
        var touch = $"touch {canaryPath}";
        string[] attacks = [$"$({touch})", $"`{touch}`", $"; {touch}", $"' ; {touch} ; '", $"\"; {touch}; \"", $"\n{touch}\n", $"| {touch}", $"&& {touch}"];
        for (var i = 0; i < count; i++)
        {
            var sb = new StringBuilder();
            if (i % 10 == 0)
            {
                sb.Append(attacks[rng.Next(attacks.Length)]);
            }

            var n = rng.Next(1, 12);
            for (var j = 0; j < n; j++)
            {
                sb.Append(Pieces[rng.Next(Pieces.Length)]);
            }

            yield return sb.ToString();
        }
    }
}
