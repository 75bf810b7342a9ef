using System.Xml;
using System.Xml.Linq;
using Ceso.Build.HelpGen;

namespace Ceso.Tests.Help;

public sealed class MamlWriterTests
{
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    private static XElement SampleCommand()
    {
        var maml = MamlWriter.ToMaml([CmdletHelpParser.Parse("Stop-Thing.md", SampleDocs.StopVm)]);
        return Assert.Single(maml.Root!.Elements(Command + "command"));
    }

    [Fact]
    public void The_saved_file_is_well_formed_xml_with_the_maml_namespaces_Get_Help_reads()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ceso-maml-{Guid.NewGuid():N}.xml");
        try
        {
            MamlWriter.Save(MamlWriter.ToMaml([CmdletHelpParser.Parse("Stop-Thing.md", SampleDocs.StopVm)]), path);

            var document = new XmlDocument();
            document.Load(path); // throws when not well-formed
            var root = document.DocumentElement!;
            Assert.Equal("helpItems", root.LocalName);
            Assert.Equal("http://msh", root.NamespaceURI);
            Assert.Equal("maml", root.GetAttribute("schema"));
            Assert.Equal("http://schemas.microsoft.com/maml/2004/10", root.GetNamespaceOfPrefix("maml"));
            Assert.Equal("http://schemas.microsoft.com/maml/dev/command/2004/10", root.GetNamespaceOfPrefix("command"));
            Assert.Equal("http://schemas.microsoft.com/maml/dev/2004/10", root.GetNamespaceOfPrefix("dev"));
            var command = Assert.Single(root.ChildNodes.OfType<XmlElement>());
            Assert.Equal("command:command", command.Name);
            Assert.StartsWith("<?xml version=\"1.0\" encoding=\"utf-8\"?>", File.ReadAllText(path), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_details_carry_name_verb_noun_and_the_synopsis()
    {
        var details = SampleCommand().Element(Command + "details")!;

        Assert.Equal("Stop-Thing", details.Element(Command + "name")!.Value);
        Assert.Equal("Stop", details.Element(Command + "verb")!.Value);
        Assert.Equal("Thing", details.Element(Command + "noun")!.Value);
        Assert.Equal("Stops things: a clean shutdown, or with -Kill a power-off.", details.Element(Maml + "description")!.Element(Maml + "para")!.Value);
    }

    [Fact]
    public void The_description_is_one_para_per_markdown_paragraph()
    {
        var paras = SampleCommand().Element(Maml + "description")!.Elements(Maml + "para").Select(p => p.Value).ToList();

        Assert.Equal(4, paras.Count);
        Assert.Equal("Asks each guest to shut down and waits until it is off.", paras[0]);
    }

    [Fact]
    public void Every_parameter_in_the_markdown_becomes_a_maml_parameter_with_its_description()
    {
        var parameters = SampleCommand().Element(Command + "parameters")!.Elements(Command + "parameter").ToList();

        Assert.Equal(["Vm", "Kill", "Server", "Reason", "WhatIf", "Confirm"], parameters.Select(p => p.Element(Maml + "name")!.Value));
        Assert.All(parameters, p => Assert.NotEmpty(p.Element(Maml + "description")!.Element(Maml + "para")!.Value));
        var vm = parameters[0];
        Assert.Equal("true", (string?)vm.Attribute("required"));
        Assert.Equal("0", (string?)vm.Attribute("position"));
        Assert.Equal("True (ByValue, ByPropertyName)", (string?)vm.Attribute("pipelineInput"));
        Assert.Equal("Name", (string?)vm.Attribute("aliases"));
        Assert.Equal("true", (string?)vm.Attribute("variableLength"));
        Assert.Equal("VmIdentity[]", vm.Element(Dev + "type")!.Element(Maml + "name")!.Value);
        Assert.Equal("The VMs: names or ids.", vm.Element(Maml + "description")!.Value);
        var server = parameters[2];
        Assert.Equal("false", (string?)server.Attribute("required"));
        Assert.Equal("named", (string?)server.Attribute("position"));
        Assert.Equal("none", (string?)server.Attribute("aliases"));
        Assert.Equal("the default session", server.Element(Dev + "defaultValue")!.Value);
        Assert.Equal(["maintenance", "upgrade"], parameters[3].Element(Command + "parameterValueGroup")!.Elements().Select(e => e.Value));
    }

    [Fact]
    public void The_syntax_item_lists_the_parameter_set_and_switches_take_no_value()
    {
        var item = Assert.Single(SampleCommand().Element(Command + "syntax")!.Elements(Command + "syntaxItem"));

        Assert.Equal("Stop-Thing", item.Element(Maml + "name")!.Value);
        var parameters = item.Elements(Command + "parameter").ToList();
        Assert.Equal(["Vm", "Kill", "Server", "Reason", "WhatIf", "Confirm"], parameters.Select(p => p.Element(Maml + "name")!.Value));
        Assert.Null(parameters[1].Element(Command + "parameterValue"));
        Assert.Equal("String", parameters[3].Element(Command + "parameterValue")!.Value);
        Assert.Equal("true", (string?)parameters[3].Attribute("required"));
    }

    [Fact]
    public void Inputs_outputs_notes_examples_and_links_have_their_maml_elements()
    {
        var command = SampleCommand();

        Assert.Equal(["Ceso.Engine.Model.CesoVm", "System.String"],
            command.Element(Command + "inputTypes")!.Elements(Command + "inputType").Select(t => t.Element(Dev + "type")!.Element(Maml + "name")!.Value));
        var output = Assert.Single(command.Element(Command + "returnValues")!.Elements(Command + "returnValue"));
        Assert.Equal("The VM afterwards.", output.Element(Maml + "description")!.Value);
        Assert.Equal("Error ids: VmNotFound.", command.Element(Maml + "alertSet")!.Element(Maml + "alert")!.Value);
        var examples = command.Element(Command + "examples")!.Elements(Command + "example").ToList();
        Assert.Equal(2, examples.Count);
        Assert.Contains("Example 1: Shut a guest down", examples[0].Element(Maml + "title")!.Value, StringComparison.Ordinal);
        Assert.Equal("PS> Stop-Thing web01", examples[0].Element(Dev + "code")!.Value);
        Assert.Equal("It waits for the guest.", examples[0].Element(Dev + "remarks")!.Value);
        var links = command.Element(Maml + "relatedLinks")!.Elements(Maml + "navigationLink").ToList();
        Assert.Equal(["Get-CesoVm", "Online"], links.Select(l => l.Element(Maml + "linkText")!.Value));
        Assert.Equal("https://example.org/stop", links[1].Element(Maml + "uri")!.Value);
    }
}
