using System.Reflection;
using System.Xml.Linq;
using Ceso.Build.HelpGen;

namespace Ceso.Tests.Help;

/// <summary>
/// The shipped help documents (docs/en-US, docs/about_Ceso.md) compile to help, and say what the compiled cmdlets
/// really take: every parameter, with its type, whether it is required, its position, pipeline input and aliases.
/// </summary>
public sealed class RealDocsTests : IClassFixture<ModuleContractTests.CompiledModule>
{
    private static readonly string[] ShouldProcessParameters = ["WhatIf", "Confirm"];

    private readonly ModuleContractTests.CompiledModule _module;

    public RealDocsTests(ModuleContractTests.CompiledModule module) => _module = module;

    private static string Docs => Path.Combine(RepoRoot(), "docs");

    private static IReadOnlyList<CmdletHelp> ReadDocs()
    {
        var problems = new List<HelpDocProblem>();
        var cmdlets = HelpGenerator.ReadCmdlets(Path.Combine(Docs, "en-US"), problems);
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        return cmdlets;
    }

    [Fact]
    public void Every_real_help_file_compiles_into_maml_and_about_Ceso_into_text()
    {
        var output = Path.Combine(Path.GetTempPath(), $"ceso-help-{Guid.NewGuid():N}");
        try
        {
            var written = HelpGenerator.Generate(Docs, output);

            Assert.Equal([HelpGenerator.MamlFileName, "about_Ceso.help.txt"], written.Select(Path.GetFileName));
            var maml = XDocument.Load(Path.Combine(output, HelpGenerator.MamlFileName));
            XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
            var names = maml.Root!.Elements(command + "command").Select(c => c.Element(command + "details")!.Element(command + "name")!.Value);
            Assert.Equal(_module.Cmdlets.Select(c => c.Name).Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
            var about = File.ReadAllLines(Path.Combine(output, "about_Ceso.help.txt"));
            Assert.Equal(["TOPIC", "    about_Ceso"], about[..2]);
            Assert.All(about, l => Assert.True(l.Length <= AboutHelpWriter.Width, $"{l.Length} columns: {l}"));
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }

    [Fact]
    public void Every_real_help_file_has_a_synopsis_a_description_an_example_and_a_described_parameter_entry_for_each_parameter()
    {
        Assert.All(ReadDocs(), help =>
        {
            Assert.NotEmpty(help.Synopsis);
            Assert.NotEmpty(help.Description);
            Assert.NotEmpty(help.Examples);
            Assert.All(help.Parameters, p => Assert.NotEmpty(p.Description));
        });
    }

    [Fact]
    public void Every_help_file_documents_exactly_the_parameters_the_compiled_cmdlet_has()
    {
        var docs = ReadDocs().ToDictionary(h => h.Name, StringComparer.OrdinalIgnoreCase);
        var mismatches = new List<string>();
        foreach (var cmdlet in _module.Cmdlets)
        {
            var help = docs[cmdlet.Name];
            var actual = CompiledParameters(cmdlet).Select(p => p.Name).ToList();
            var documented = help.Parameters.Select(p => p.Name).ToList();
            mismatches.AddRange(actual.Except(documented, StringComparer.OrdinalIgnoreCase).Select(p => $"{cmdlet.Name}: -{p} is not documented"));
            mismatches.AddRange(documented.Except(actual, StringComparer.OrdinalIgnoreCase).Select(p => $"{cmdlet.Name}: -{p} is documented but the cmdlet has no such parameter"));
            var inSyntax = help.Syntax.SelectMany(s => s.Parameters).Select(p => p.Name).Distinct(StringComparer.OrdinalIgnoreCase);
            mismatches.AddRange(actual.Except(inSyntax, StringComparer.OrdinalIgnoreCase).Select(p => $"{cmdlet.Name}: -{p} is missing from SYNTAX"));
        }

        Assert.True(mismatches.Count == 0, string.Join(Environment.NewLine, mismatches));
    }

    [Fact]
    public void Every_documented_parameter_has_the_compiled_type_required_flag_position_pipeline_input_and_aliases()
    {
        var docs = ReadDocs().ToDictionary(h => h.Name, StringComparer.OrdinalIgnoreCase);
        var mismatches = new List<string>();
        foreach (var cmdlet in _module.Cmdlets)
        {
            var help = docs[cmdlet.Name];
            foreach (var actual in CompiledParameters(cmdlet))
            {
                if (help.Parameters.FirstOrDefault(p => p.Name.Equals(actual.Name, StringComparison.OrdinalIgnoreCase)) is not { } doc)
                {
                    continue; // reported by the test above
                }

                void Check(string what, string expected, string written)
                {
                    if (!string.Equals(expected, written, StringComparison.OrdinalIgnoreCase))
                    {
                        mismatches.Add($"{cmdlet.Name} -{actual.Name}: {what} is '{expected}' but the help says '{written}'");
                    }
                }

                Check("Type", actual.Type, ShortTypeName(doc.Type));
                Check("Required", actual.Required.ToString(), doc.Required.ToString());
                Check("Position", actual.Position, doc.Position);
                Check("Accept pipeline input", actual.PipelineInput, doc.PipelineInput);
                Check("Aliases", string.Join(", ", actual.Aliases), string.Join(", ", doc.Aliases));
                var syntaxRequired = help.Syntax.SelectMany(s => s.Parameters).Where(s => s.Name.Equals(actual.Name, StringComparison.OrdinalIgnoreCase));
                foreach (var s in syntaxRequired)
                {
                    Check("Required (in SYNTAX)", actual.Required.ToString(), s.Required.ToString());
                    Check("Positional (in SYNTAX)", (actual.Position != "named").ToString(), s.Positional.ToString());
                }
            }
        }

        Assert.True(mismatches.Count == 0, string.Join(Environment.NewLine, mismatches));
    }

    private static string ShortTypeName(string type) => type.Contains('.', StringComparison.Ordinal) ? type[(type.LastIndexOf('.') + 1)..] : type;

    /// <summary>A parameter as the compiled attributes declare it (one parameter set; Ceso cmdlets have one each).</summary>
    private sealed record CompiledParameter(string Name, string Type, bool Required, string Position, string PipelineInput, IReadOnlyList<string> Aliases);

    private static List<CompiledParameter> CompiledParameters(ModuleContractTests.CmdletInfo cmdlet)
    {
        var result = new List<CompiledParameter>();
        foreach (var property in cmdlet.Type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var attributes = property.GetCustomAttributesData();
            var parameter = attributes.FirstOrDefault(a => a.AttributeType.FullName == "System.Management.Automation.ParameterAttribute");
            if (parameter is null)
            {
                continue;
            }

            object? Named(string name) => parameter.NamedArguments.FirstOrDefault(a => a.MemberName == name).TypedValue.Value;
            var pipeline = new[] { ("ValueFromPipeline", "ByValue"), ("ValueFromPipelineByPropertyName", "ByPropertyName") }
                .Where(x => Named(x.Item1) is true).Select(x => x.Item2).ToList();
            var aliases = attributes.Where(a => a.AttributeType.FullName == "System.Management.Automation.AliasAttribute")
                .SelectMany(a => a.ConstructorArguments)
                .SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => (string)m.Value!) : [(string)arg.Value!])
                .ToList();
            result.Add(new CompiledParameter(
                property.Name,
                TypeName(property.PropertyType),
                Named("Mandatory") is true,
                Named("Position") is int position && position >= 0 ? position.ToString(System.Globalization.CultureInfo.InvariantCulture) : "named",
                pipeline.Count == 0 ? "False" : $"True ({string.Join(", ", pipeline)})",
                aliases));
        }

        if (cmdlet.SupportsShouldProcess)
        {
            result.Add(new CompiledParameter("WhatIf", "SwitchParameter", false, "named", "False", ["wi"]));
            result.Add(new CompiledParameter("Confirm", "SwitchParameter", false, "named", "False", ["cf"]));
        }

        return result;
    }

    private static string TypeName(Type type)
    {
        if (type.IsArray)
        {
            return TypeName(type.GetElementType()!) + "[]";
        }

        return type.IsGenericType && type.GetGenericTypeDefinition().FullName == "System.Nullable`1"
            ? TypeName(type.GetGenericArguments()[0])
            : type.Name;
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Ceso.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Ceso.sln not found above {AppContext.BaseDirectory}");
    }
}
