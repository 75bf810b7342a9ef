using Ceso.Build.HelpGen;

namespace Ceso.Tests.Help;

public sealed class CmdletHelpParserTests
{
    private static CmdletHelp Sample => CmdletHelpParser.Parse("Stop-Thing.md", SampleDocs.StopVm);

    [Fact]
    public void The_title_synopsis_and_description_are_read_as_plain_text()
    {
        var help = Sample;

        Assert.Equal("Stop-Thing", help.Name);
        Assert.Equal("Stop", help.Verb);
        Assert.Equal("Thing", help.Noun);
        Assert.Equal("Stops things: a clean shutdown, or with -Kill a power-off.", help.Synopsis);
        Assert.Equal(
            [
                "Asks each guest to shut down and waits until it is off.",
                "See about_Ceso and the docs (https://example.org/ceso).",
                "- first point",
                "- second point",
            ],
            help.Description);
    }

    [Fact]
    public void Every_parameter_entry_is_read_with_its_yaml_attributes_and_common_parameters_are_left_out()
    {
        var help = Sample;

        Assert.Equal(["Vm", "Kill", "Server", "Reason", "WhatIf", "Confirm"], help.Parameters.Select(p => p.Name));
        var vm = help.Parameters[0];
        Assert.Equal(["The VMs: names or ids."], vm.Description);
        Assert.Equal("VmIdentity[]", vm.Type);
        Assert.True(vm.Required);
        Assert.True(vm.IsArray);
        Assert.Equal("0", vm.Position);
        Assert.Equal(["Name"], vm.Aliases);
        Assert.Equal("True (ByValue, ByPropertyName)", vm.PipelineInput);
        var server = help.Parameters[2];
        Assert.False(server.Required);
        Assert.Equal("named", server.Position);
        Assert.Equal("the default session", server.DefaultValue);
        Assert.Equal(["maintenance", "upgrade"], help.Parameters[3].AcceptedValues);
        Assert.True(help.Parameters[1].IsSwitch);
    }

    [Fact]
    public void The_syntax_block_says_which_parameters_are_required_positional_or_switches()
    {
        var item = Assert.Single(Sample.Syntax);

        Assert.Equal(
            [
                new SyntaxParameter("Vm", Required: true, Positional: true, "VmIdentity[]"),
                new SyntaxParameter("Kill", Required: false, Positional: false, null),
                new SyntaxParameter("Server", Required: false, Positional: false, "ServerIdentity"),
                new SyntaxParameter("Reason", Required: true, Positional: false, "String"),
                new SyntaxParameter("WhatIf", Required: false, Positional: false, null),
                new SyntaxParameter("Confirm", Required: false, Positional: false, null),
            ],
            item.Parameters);
    }

    [Fact]
    public void Examples_keep_their_title_code_and_remarks()
    {
        var help = Sample;

        Assert.Equal(2, help.Examples.Count);
        Assert.Equal("Example 1: Shut a guest down", help.Examples[0].Title);
        Assert.Equal("PS> Stop-Thing web01", help.Examples[0].Code);
        Assert.Equal(["It waits for the guest."], help.Examples[0].Remarks);
        Assert.Empty(help.Examples[1].Remarks);
    }

    [Fact]
    public void Inputs_outputs_notes_and_links_are_read()
    {
        var help = Sample;

        Assert.Equal(["Ceso.Engine.Model.CesoVm", "System.String"], help.Inputs.Select(t => t.Type));
        var output = Assert.Single(help.Outputs);
        Assert.Equal(["The VM afterwards."], output.Description);
        Assert.Equal(["Error ids: VmNotFound."], help.Notes);
        Assert.Equal([new RelatedLink("Get-CesoVm", ""), new RelatedLink("Online", "https://example.org/stop")], help.Links);
    }

    [Theory]
    [InlineData("## SYNOPSIS\nStops things: a **clean** shutdown, or with `-Kill` a power-off.\n", "## SYNOPSIS\n", "SYNOPSIS")]
    [InlineData("## DESCRIPTION\nAsks each guest to shut down\nand waits until it is off.\n\nSee [about_Ceso](../about_Ceso.md) and [the docs](https://example.org/ceso).\n\n- first point\n- second point\n", "## DESCRIPTION\n", "DESCRIPTION")]
    [InlineData("### -Kill\nPower off at once.\n", "### -Kill\n", "PARAMETERS -Kill")]
    [InlineData("```powershell\nPS> Stop-Thing web02 -Kill\n```\n", "", "EXAMPLES Example 2: Kill it")]
    [InlineData("## PARAMETERS\n", "## PARAMETERS\n### -Vm, -Kill\nGrouped.\n\n```yaml\nType: String\n```\n", "PARAMETERS -Vm, -Kill")]
    public void A_document_missing_a_required_part_fails_naming_the_file_and_the_section(string remove, string replaceWith, string section)
    {
        var broken = SampleDocs.StopVm.Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.Contains(remove, broken, StringComparison.Ordinal);
        broken = broken.Replace(remove, replaceWith, StringComparison.Ordinal);

        var error = Assert.Throws<HelpDocException>(() => CmdletHelpParser.Parse("docs/en-US/Stop-Thing.md", broken));

        var problem = Assert.Single(error.Problems, p => p.Section == section);
        Assert.Equal("docs/en-US/Stop-Thing.md", problem.File);
        Assert.Contains($"docs/en-US/Stop-Thing.md: {section}:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_document_without_any_example_fails()
    {
        var broken = SampleDocs.StopVm[..SampleDocs.StopVm.IndexOf("### Example 1", StringComparison.Ordinal)]
            + SampleDocs.StopVm[SampleDocs.StopVm.IndexOf("## PARAMETERS", StringComparison.Ordinal)..];

        var error = Assert.Throws<HelpDocException>(() => CmdletHelpParser.Parse("Stop-Thing.md", broken));

        Assert.Contains(error.Problems, p => p.Section == "EXAMPLES");
    }

    [Fact]
    public void A_syntax_parameter_without_a_parameter_entry_fails()
    {
        var broken = SampleDocs.StopVm.Replace("[-Kill]", "[-Kill] [-Force]", StringComparison.Ordinal);

        var error = Assert.Throws<HelpDocException>(() => CmdletHelpParser.Parse("Stop-Thing.md", broken));

        var problem = Assert.Single(error.Problems);
        Assert.Equal("SYNTAX", problem.Section);
        Assert.Contains("-Force", problem.Message, StringComparison.Ordinal);
    }
}
