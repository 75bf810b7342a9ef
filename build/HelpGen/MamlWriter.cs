using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace Ceso.Build.HelpGen;

/// <summary>
/// Writes cmdlet help as MAML, the XML that Get-Help reads for a binary module from
/// <c>&lt;module&gt;/&lt;culture&gt;/&lt;Assembly&gt;.dll-Help.xml</c>: <c>helpItems</c> with one <c>command:command</c> per cmdlet.
/// </summary>
public static class MamlWriter
{
    /// <summary>The default namespace of the document element.</summary>
    public static readonly XNamespace Msh = "http://msh";

    /// <summary>The MAML namespace (paragraphs, names, descriptions, links).</summary>
    public static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";

    /// <summary>The command namespace (command, details, syntax, parameters, examples).</summary>
    public static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";

    /// <summary>The developer namespace (types, default values, code, remarks).</summary>
    public static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    /// <summary>The MSHelp namespace platyPS declares; kept for tools that expect it.</summary>
    public static readonly XNamespace MsHelp = "http://msdn.microsoft.com/mshelp";

    /// <summary>The MAML document for the given cmdlets, in the order given.</summary>
    public static XDocument ToMaml(IEnumerable<CmdletHelp> cmdlets) =>
        new(new XDeclaration("1.0", "utf-8", null),
            new XElement(Msh + "helpItems",
                new XAttribute("schema", "maml"),
                new XAttribute(XNamespace.Xmlns + "maml", Maml),
                new XAttribute(XNamespace.Xmlns + "command", Command),
                new XAttribute(XNamespace.Xmlns + "dev", Dev),
                new XAttribute(XNamespace.Xmlns + "MSHelp", MsHelp),
                cmdlets.Select(CommandElement)));

    /// <summary>Saves the document as indented UTF-8 (no byte order mark).</summary>
    public static void Save(XDocument maml, string path)
    {
        var settings = new XmlWriterSettings { Indent = true, IndentChars = "  ", Encoding = new UTF8Encoding(false) };
        using var writer = XmlWriter.Create(path, settings);
        maml.Save(writer);
    }

    private static XElement CommandElement(CmdletHelp help) =>
        new(Command + "command",
            new XElement(Command + "details",
                new XElement(Command + "name", help.Name),
                new XElement(Command + "verb", help.Verb),
                new XElement(Command + "noun", help.Noun),
                Description([help.Synopsis])),
            Description(help.Description),
            new XElement(Command + "syntax", help.Syntax.Select(s => SyntaxItem(help, s))),
            new XElement(Command + "parameters", help.Parameters.Select(p => Parameter(p, p.Required, p.Position, inSyntax: false))),
            new XElement(Command + "inputTypes", help.Inputs.Select(t => TypeEntry("inputType", t))),
            new XElement(Command + "returnValues", help.Outputs.Select(t => TypeEntry("returnValue", t))),
            new XElement(Maml + "alertSet", new XElement(Maml + "alert", Paras(help.Notes))),
            new XElement(Command + "examples", help.Examples.Select((e, i) => Example(e, i))),
            new XElement(Maml + "relatedLinks", help.Links.Select(l =>
                new XElement(Maml + "navigationLink",
                    new XElement(Maml + "linkText", l.Text),
                    new XElement(Maml + "uri", l.Uri)))));

    private static XElement SyntaxItem(CmdletHelp help, SyntaxItem item) =>
        new(Command + "syntaxItem",
            new XElement(Maml + "name", help.Name),
            item.Parameters.Select(s =>
            {
                var p = help.Parameters.FirstOrDefault(x => x.Name.Equals(s.Name, StringComparison.OrdinalIgnoreCase))
                    ?? new ParameterHelp { Name = s.Name, Description = [], Type = s.Type ?? "SwitchParameter" };
                // Required and position as this parameter set has them; the rest from the PARAMETERS entry.
                var position = s.Positional ? (p.Position == "named" ? "0" : p.Position) : "named";
                return Parameter(p, s.Required, position, inSyntax: true);
            }));

    private static XElement Parameter(ParameterHelp p, bool required, string position, bool inSyntax)
    {
        var element = new XElement(Command + "parameter",
            new XAttribute("required", Bool(required)),
            new XAttribute("variableLength", Bool(p.IsArray)),
            new XAttribute("globbing", Bool(p.Globbing)),
            new XAttribute("pipelineInput", p.PipelineInput),
            new XAttribute("position", position),
            new XAttribute("aliases", p.Aliases.Count == 0 ? "none" : string.Join(", ", p.Aliases)),
            new XElement(Maml + "name", p.Name),
            Description(p.Description));
        if (p.AcceptedValues.Count > 0)
        {
            element.Add(new XElement(Command + "parameterValueGroup", p.AcceptedValues.Select(v =>
                new XElement(Command + "parameterValue", new XAttribute("required", "false"), new XAttribute(Command + "variableLength", "false"), v))));
        }

        // In a syntax line a switch shows as [-Kill], not [-Kill <SwitchParameter>]: it takes no value.
        if (!(inSyntax && p.IsSwitch))
        {
            element.Add(new XElement(Command + "parameterValue",
                new XAttribute("required", Bool(!p.IsSwitch)),
                new XAttribute("variableLength", Bool(p.IsArray)),
                p.Type));
        }

        element.Add(
            new XElement(Dev + "type", new XElement(Maml + "name", p.Type), new XElement(Maml + "uri")),
            new XElement(Dev + "defaultValue", p.DefaultValue));
        return element;
    }

    private static XElement TypeEntry(string kind, TypeHelp type) =>
        new(Command + kind,
            new XElement(Dev + "type", new XElement(Maml + "name", type.Type)),
            Description(type.Description));

    private static XElement Example(ExampleHelp example, int index) =>
        new(Command + "example",
            new XElement(Maml + "title", $"-------------------------- {Title(example.Title, index)} --------------------------"),
            new XElement(Dev + "code", example.Code),
            new XElement(Dev + "remarks", Paras(example.Remarks)));

    private static string Title(string title, int index) =>
        title.StartsWith("Example", StringComparison.OrdinalIgnoreCase) ? title : $"Example {index + 1}: {title}";

    private static XElement Description(IEnumerable<string> paragraphs) => new(Maml + "description", Paras(paragraphs));

    private static IEnumerable<XElement> Paras(IEnumerable<string> paragraphs)
    {
        var list = paragraphs.ToList();
        return list.Count == 0 ? [new XElement(Maml + "para")] : list.Select(p => new XElement(Maml + "para", p));
    }

    private static string Bool(bool value) => value ? "true" : "false";
}
