using Ceso.Build.HelpGen;

namespace Ceso.Tests.Help;

public sealed class AboutHelpWriterTests
{
    private static string[] Lines(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');

    [Fact]
    public void The_about_topic_has_the_TOPIC_SHORT_DESCRIPTION_LONG_DESCRIPTION_layout()
    {
        var lines = Lines(AboutHelpWriter.ToText("about_Thing.md", SampleDocs.About));

        Assert.Equal("TOPIC", lines[0]);
        Assert.Equal("    about_Thing", lines[1]);
        Assert.Equal("", lines[2]);
        Assert.Equal("SHORT DESCRIPTION", lines[3]);
        Assert.Equal("    Thing manages things.", lines[4]);
        Assert.Equal("", lines[5]);
        Assert.Equal("LONG DESCRIPTION", lines[6]);
        Assert.Contains("EXAMPLES", lines);
        Assert.Contains("SEE ALSO", lines);
        Assert.Contains("  Sessions", lines);
    }

    [Fact]
    public void Markdown_is_stripped_and_every_line_fits_in_80_columns()
    {
        var text = AboutHelpWriter.ToText("about_Thing.md", SampleDocs.About);
        var lines = Lines(text);

        Assert.All(lines, l => Assert.True(l.Length <= 80, $"{l.Length} columns: {l}"));
        Assert.DoesNotContain("**", text, StringComparison.Ordinal);
        Assert.DoesNotContain("`C", text, StringComparison.Ordinal);
        Assert.DoesNotContain("](", text, StringComparison.Ordinal);
        Assert.Contains("    Connect-Thing opens a session; see Get-Thing.", lines);
        var item = Array.FindIndex(lines, l => l.StartsWith("    - A list item that is also long enough", StringComparison.Ordinal));
        Assert.True(item > 0);
        Assert.Matches("^      [^ -]", lines[item + 1]); // the item's continuation hangs under its text
    }

    [Fact]
    public void Code_keeps_its_lines_and_comments_and_a_long_command_is_continued_with_a_backtick()
    {
        var lines = Lines(AboutHelpWriter.ToText("about_Thing.md", SampleDocs.About));

        Assert.Contains("          # a comment that is not a heading", lines);
        var start = Array.FindIndex(lines, l => l.StartsWith("        New-Thing web03", StringComparison.Ordinal));
        Assert.True(start > 0);
        Assert.EndsWith(" `", lines[start], StringComparison.Ordinal);
        Assert.StartsWith("            -", lines[start + 1], StringComparison.Ordinal);
    }

    [Fact]
    public void An_about_topic_without_a_long_description_fails_naming_the_section()
    {
        var broken = SampleDocs.About[..SampleDocs.About.IndexOf("## LONG DESCRIPTION", StringComparison.Ordinal)];

        var error = Assert.Throws<HelpDocException>(() => AboutHelpWriter.ToText("docs/about_Thing.md", broken));

        var problem = Assert.Single(error.Problems);
        Assert.Equal(("docs/about_Thing.md", "LONG DESCRIPTION"), (problem.File, problem.Section));
    }
}
