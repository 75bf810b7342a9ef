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
    public void A_command_line_joins_quoted_commands_with_fixed_operators_only()
    {
        var line = ShellCommandLine.Of("printf", "%s", "a b")
            .WriteTo("/vmfs/volumes/ds 1/web 01/web 01.vmx.ceso-tmp")
            .And("mv", "/vmfs/volumes/ds 1/web 01/web 01.vmx.ceso-tmp", "/vmfs/volumes/ds 1/web 01/web 01.vmx")
            .Or("rm", "-f", "x;y");

        Assert.Equal(
            "printf %s 'a b' > '/vmfs/volumes/ds 1/web 01/web 01.vmx.ceso-tmp' && mv '/vmfs/volumes/ds 1/web 01/web 01.vmx.ceso-tmp' '/vmfs/volumes/ds 1/web 01/web 01.vmx' || rm -f 'x;y'",
            line.ToString());
        Assert.Equal("a | b ; c", ShellCommandLine.Of("a").Pipe("b").Then("c").ToString());
    }

    [Fact]
    public void Lines_chain_with_and_and_errors_are_discarded_only_by_the_fixed_redirect()
    {
        var read = ShellCommandLine.Of("dd", "if=/vmfs/volumes/ds 1/a-flat.vmdk", "bs=1048576", "skip=2", "count=1").DiscardErrors().Pipe("head", "-c", "10");
        var next = ShellCommandLine.Of("dd", "if=/vmfs/volumes/ds 1/a-flat.vmdk", "bs=1048576", "skip=3").DiscardErrors();

        Assert.Equal(
            "dd 'if=/vmfs/volumes/ds 1/a-flat.vmdk' 'bs=1048576' 'skip=2' 'count=1' 2>/dev/null | head -c 10 && dd 'if=/vmfs/volumes/ds 1/a-flat.vmdk' 'bs=1048576' 'skip=3' 2>/dev/null",
            read.And(next).ToString());
    }

    [Fact]
    public void A_command_line_is_immutable()
    {
        var first = ShellCommandLine.Of("true");
        _ = first.And("false");
        Assert.Equal("true", first.ToString());
    }

    [Fact]
    public void Hostile_names_in_a_write_and_move_sequence_reach_the_shell_as_data_and_run_nothing()
    {
        var dir = Directory.CreateTempSubdirectory("ceso-line-").FullName;
        var canary = Path.Combine(Path.GetTempPath(), "ceso-canary-" + Guid.NewGuid().ToString("N"));
        try
        {
            foreach (var name in HostileNames.Generate(200, seed: 11, canary).Select(n => n.Replace("/", "_")).Where(n => n is not ("." or "..")).Distinct())
            {
                var temp = Path.Combine(dir, name + ".tmp");
                var target = Path.Combine(dir, name);
                var content = "content of " + name;
                var line = ShellCommandLine.Of("printf", "%s", content).WriteTo(temp).And("mv", temp, target);
                using var p = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", line.ToString()]) { UseShellExecute = false })!;
                Assert.True(p.WaitForExit(10_000));
                Assert.Equal(0, p.ExitCode);
                Assert.Equal(content, File.ReadAllText(target));
                Assert.False(File.Exists(temp));
            }

            Assert.False(File.Exists(canary), "a quoted name executed a command");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

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
