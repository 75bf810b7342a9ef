using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace Ceso.Tests;

/// <summary>
/// Module-wide rules checked on the compiled cmdlet assembly, read with MetadataLoadContext (the tests cannot load
/// System.Management.Automation), and on the files that ship with it: manifest, format file, help, Pester tests.
/// </summary>
public sealed class ModuleContractTests : IClassFixture<ModuleContractTests.CompiledModule>
{
    // Verbs that only read or present data. Connect is also exempt from ShouldProcess: it changes nothing on the host,
    // and it must still connect under -WhatIf / $WhatIfPreference, or the -WhatIf previews of later cmdlets would have
    // no host to read. Export and every other verb (Disconnect, Set, New, Remove, Copy, Backup, Restore…) change state.
    private static readonly HashSet<string> VerbsWithoutShouldProcess = new(StringComparer.Ordinal)
    {
        "Get", "Test", "Find", "Search", "Show", "Measure", "Compare", "Resolve", "Select", "Read", "Watch", "Format",
        "Connect",
    };

    private readonly CompiledModule _module;

    public ModuleContractTests(CompiledModule module) => _module = module;

    [Fact]
    public void The_module_has_cmdlets_and_the_approved_verb_list_is_read_from_System_Management_Automation()
    {
        Assert.NotEmpty(_module.Cmdlets);
        Assert.True(_module.ApprovedVerbs.Count > 50, $"only {_module.ApprovedVerbs.Count} approved verbs were read");
        Assert.Contains("Get", _module.ApprovedVerbs);
        Assert.Contains("Connect", _module.ApprovedVerbs);
        Assert.DoesNotContain("Fetch", _module.ApprovedVerbs);
    }

    [Fact]
    public void Every_cmdlet_class_uses_an_approved_verb()
    {
        var offenders = _module.Cmdlets.Where(c => !_module.ApprovedVerbs.Contains(c.Verb)).Select(c => c.Name).ToList();
        Assert.Empty(offenders);
    }

    [Fact]
    public void Every_cmdlet_class_is_public_sealed_named_after_its_command_and_derives_from_CesoCmdlet()
    {
        Assert.All(_module.Cmdlets, c =>
        {
            Assert.True(c.Type.IsPublic && c.Type.IsSealed, $"{c.Type.FullName} must be public sealed");
            Assert.Equal(c.Verb + c.Noun + "Command", c.Type.Name);
            var bases = new List<string>();
            for (var t = c.Type.BaseType; t is not null; t = t.BaseType)
            {
                bases.Add(t.FullName!);
            }

            Assert.Contains("Ceso.PowerShell.CesoCmdlet", bases); // directly or through VmChangeCmdlet
        });
    }

    [Fact]
    public void Every_cmdlet_declares_OutputType()
    {
        var offenders = _module.Cmdlets.Where(c => c.OutputTypes.Count == 0).Select(c => c.Name).ToList();
        Assert.Empty(offenders);
    }

    [Fact]
    public void Every_cmdlet_whose_verb_changes_state_declares_SupportsShouldProcess()
    {
        var stateChanging = _module.Cmdlets.Where(c => !VerbsWithoutShouldProcess.Contains(c.Verb)).ToList();
        Assert.NotEmpty(stateChanging); // Disconnect-CesoServer at least
        var offenders = stateChanging.Where(c => !c.SupportsShouldProcess).Select(c => c.Name).ToList();
        Assert.Empty(offenders);
    }

    [Fact]
    public void ConfirmImpact_is_read_from_the_compiled_attribute()
    {
        // Proves the reader the Remove-* rule relies on: Disconnect-CesoServer declares ConfirmImpact.Low.
        var disconnect = Assert.Single(_module.Cmdlets, c => c.Name == "Disconnect-CesoServer");
        Assert.Equal("Low", disconnect.ConfirmImpact);
    }

    [Fact]
    public void Every_Remove_cmdlet_has_ConfirmImpact_High()
    {
        var offenders = _module.Cmdlets.Where(c => c.Verb == "Remove" && c.ConfirmImpact != "High").Select(c => c.Name).ToList();
        Assert.Empty(offenders);
    }

    [Fact]
    public void The_manifest_exports_exactly_the_cmdlet_classes()
    {
        var exported = ManifestList("CmdletsToExport");
        Assert.NotEmpty(exported);
        Assert.Equal(_module.Cmdlets.Select(c => c.Name).Order(StringComparer.Ordinal), exported.Order(StringComparer.Ordinal));
        foreach (var key in new[] { "FunctionsToExport", "AliasesToExport", "VariablesToExport" })
        {
            Assert.Empty(ManifestList(key));
        }
    }

    [Fact]
    public void The_manifest_ModuleVersion_equals_the_VersionPrefix_of_Directory_Build_props()
    {
        var props = XDocument.Load(Path.Combine(Repo.Root, "Directory.Build.props"));
        var prefix = props.Descendants("VersionPrefix").Single().Value.Trim();
        var match = Regex.Match(Manifest, @"^\s*ModuleVersion\s*=\s*'([^']+)'", RegexOptions.Multiline);
        Assert.True(match.Success, "Ceso.psd1 has no ModuleVersion = '…' line");
        Assert.Equal(prefix, match.Groups[1].Value);
    }

    [Fact]
    public void Every_cmdlet_has_a_help_file_with_at_least_one_example()
    {
        Assert.All(_module.Cmdlets, c =>
        {
            var file = Path.Combine(Repo.Root, "docs", "en-US", c.Name + ".md");
            Assert.True(File.Exists(file), $"missing {file}");
            Assert.Contains("### Example", File.ReadAllText(file), StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Every_cmdlet_has_a_Pester_test_file()
    {
        Assert.All(_module.Cmdlets, c =>
            Assert.True(File.Exists(Path.Combine(Repo.Root, "tests", "Pester", c.Name + ".Tests.ps1")), $"missing tests/Pester/{c.Name}.Tests.ps1"));
    }

    [Fact]
    public void Every_public_output_type_has_a_view_in_the_format_file()
    {
        var format = XDocument.Load(Path.Combine(Repo.Root, "Ceso.Format.ps1xml"));
        var viewed = format.Descendants("ViewSelectedBy").Elements("TypeName").Select(t => t.Value.Trim()).ToHashSet(StringComparer.Ordinal);
        var ours = _module.Cmdlets.SelectMany(c => c.OutputTypes)
            .Where(t => t.StartsWith("Ceso.", StringComparison.Ordinal))
            .Distinct()
            .ToList();
        Assert.NotEmpty(ours);
        Assert.All(ours, t => Assert.Contains(t, viewed));
    }

    [Fact]
    public void Every_public_output_type_has_a_table_view_and_a_list_view()
    {
        var format = XDocument.Load(Path.Combine(Repo.Root, "Ceso.Format.ps1xml"));
        var controls = format.Descendants("View")
            .SelectMany(v => v.Element("ViewSelectedBy")!.Elements("TypeName").Select(t => (Type: t.Value.Trim(),
                Control: v.Elements().Select(e => e.Name.LocalName).Single(n => n.EndsWith("Control", StringComparison.Ordinal)))))
            .ToHashSet();
        var ours = _module.Cmdlets.SelectMany(c => c.OutputTypes).Where(t => t.StartsWith("Ceso.", StringComparison.Ordinal)).Distinct().ToList();
        Assert.All(ours, t =>
        {
            Assert.Contains((t, "TableControl"), controls);
            Assert.Contains((t, "ListControl"), controls);
        });
    }

    [Fact]
    public void Output_types_read_as_json_without_flags_no_enums_timespans_or_exceptions_and_nested_records_print_readably()
    {
        // ConvertTo-Json writes an enum as a number unless -EnumsAsStrings, so output properties are strings with
        // documented values (docs/decisions.md); a nested record must override ToString, or Format-List shows "Type { … }".
        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Check(Type type, string path)
        {
            if (!seen.Add(type.FullName!))
            {
                return;
            }

            foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var t = p.PropertyType;
                var element = t.IsGenericType && t.GetGenericArguments() is [var arg] ? arg : t.IsArray ? t.GetElementType()! : t;
                var where = $"{path}.{p.Name} ({t.Name})";
                if (element.IsEnum)
                {
                    problems.Add(where + ": an enum; expose a string with documented values");
                }
                else if (element.FullName is "System.TimeSpan")
                {
                    problems.Add(where + ": a TimeSpan serialises as a nested object; expose seconds or milliseconds");
                }
                else if (IsException(element))
                {
                    problems.Add(where + ": an exception serialises huge and recursive; expose its message");
                }
                else if (element.FullName!.StartsWith("Ceso.", StringComparison.Ordinal) && !element.IsValueType)
                {
                    var toString = element.GetMethod("ToString", Type.EmptyTypes);
                    if (toString?.DeclaringType != element || toString.GetCustomAttributesData().Any(a => a.AttributeType.Name == "CompilerGeneratedAttribute"))
                    {
                        problems.Add(where + ": a nested Ceso type without a readable ToString (Format-List would print its record syntax)");
                    }

                    Check(element, path + "." + p.Name);
                }
            }
        }

        var outputs = _module.Cmdlets.SelectMany(c => c.OutputTypes).Where(t => t.StartsWith("Ceso.", StringComparison.Ordinal)).Distinct().ToList();
        Assert.NotEmpty(outputs);
        foreach (var name in outputs)
        {
            Check(_module.Resolve(name), name);
        }

        Assert.Empty(problems);
    }

    private static bool IsException(Type t)
    {
        for (var b = t; b is not null; b = b.BaseType)
        {
            if (b.FullName == "System.Exception")
            {
                return true;
            }
        }

        return false;
    }

    private static string Manifest => File.ReadAllText(Path.Combine(Repo.Root, "Ceso.psd1"));

    private static List<string> ManifestList(string key)
    {
        var match = Regex.Match(Manifest, $@"^\s*{key}\s*=\s*@\(([^)]*)\)", RegexOptions.Multiline);
        Assert.True(match.Success, $"Ceso.psd1 has no {key} = @(…) entry");
        var body = Regex.Replace(match.Groups[1].Value, "#.*$", "", RegexOptions.Multiline);
        return Regex.Matches(body, "'([^']*)'").Select(m => m.Groups[1].Value).ToList();
    }

    /// <summary>A cmdlet as the compiled attributes describe it.</summary>
    public sealed record CmdletInfo(Type Type, string Verb, string Noun, bool SupportsShouldProcess, string? ConfirmImpact, IReadOnlyList<string> OutputTypes)
    {
        public string Name => Verb + "-" + Noun;
    }

    /// <summary>Ceso.PowerShell.dll and System.Management.Automation loaded once for all tests, for reading only.</summary>
    public sealed class CompiledModule : IDisposable
    {
        private readonly MetadataLoadContext _context;

        public CompiledModule()
        {
            var configuration = typeof(ModuleContractTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
            var moduleDll = Path.Combine(Repo.Root, "src", "Ceso.PowerShell", "bin", configuration, "net8.0", "Ceso.PowerShell.dll");
            Assert.True(File.Exists(moduleDll), $"build the solution first: {moduleDll} is missing");
            var sma = typeof(ModuleContractTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(a => a.Key == "SmaReferencePath").Value!;
            Assert.True(File.Exists(sma), $"System.Management.Automation reference not found at {sma}");

            var paths = Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll")
                .Append(sma)
                .Append(moduleDll)
                .Append(Path.Combine(Path.GetDirectoryName(moduleDll)!, "Ceso.Engine.dll"));
            _context = new MetadataLoadContext(new PathAssemblyResolver(paths));
            var smaAssembly = _context.LoadFromAssemblyPath(sma);
            var module = _context.LoadFromAssemblyPath(moduleDll);
            _assemblies = [module, _context.LoadFromAssemblyPath(Path.Combine(Path.GetDirectoryName(moduleDll)!, "Ceso.Engine.dll"))];

            ApprovedVerbs = new[] { "VerbsCommon", "VerbsData", "VerbsLifecycle", "VerbsDiagnostic", "VerbsCommunications", "VerbsSecurity", "VerbsOther" }
                .SelectMany(n => smaAssembly.GetType("System.Management.Automation." + n, throwOnError: true)!
                    .GetFields(BindingFlags.Public | BindingFlags.Static)
                    .Where(f => f.IsLiteral)
                    .Select(f => (string)f.GetRawConstantValue()!))
                .ToHashSet(StringComparer.Ordinal);

            Cmdlets = module.GetTypes()
                .Select(t => (Type: t, Attr: t.GetCustomAttributesData().SingleOrDefault(a => a.AttributeType.FullName == "System.Management.Automation.CmdletAttribute")))
                .Where(x => x.Attr is not null)
                .Select(x => Describe(x.Type, x.Attr!))
                .OrderBy(c => c.Name, StringComparer.Ordinal)
                .ToList();
        }

        public IReadOnlySet<string> ApprovedVerbs { get; }

        /// <summary>A type of the module or the engine by its full name.</summary>
        public Type Resolve(string fullName) =>
            _assemblies.Select(a => a.GetType(fullName)).FirstOrDefault(t => t is not null) ?? throw new InvalidOperationException($"type {fullName} not found");

        private readonly Assembly[] _assemblies;

        public IReadOnlyList<CmdletInfo> Cmdlets { get; }

        public void Dispose() => _context.Dispose();

        private static CmdletInfo Describe(Type type, CustomAttributeData cmdlet)
        {
            object? Named(string name) => cmdlet.NamedArguments.FirstOrDefault(a => a.MemberName == name).TypedValue.Value;
            var impact = Named("ConfirmImpact") is int value
                ? cmdlet.NamedArguments.First(a => a.MemberName == "ConfirmImpact").TypedValue.ArgumentType.GetEnumName(value)
                : null;
            var outputs = type.GetCustomAttributesData()
                .Where(a => a.AttributeType.FullName == "System.Management.Automation.OutputTypeAttribute")
                .SelectMany(a => a.ConstructorArguments)
                .SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => m.Value) : [arg.Value])
                .Select(v => v is Type t ? t.FullName! : v?.ToString() ?? "")
                .ToList();
            return new CmdletInfo(type, (string)cmdlet.ConstructorArguments[0].Value!, (string)cmdlet.ConstructorArguments[1].Value!,
                Named("SupportsShouldProcess") is true, impact, outputs);
        }
    }

    private static class Repo
    {
        public static string Root { get; } = Find();

        private static string Find()
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
}
