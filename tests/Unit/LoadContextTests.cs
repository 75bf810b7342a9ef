using System.Reflection;
using System.Runtime.Loader;
using Ceso.PowerShell;

namespace Ceso.Tests;

/// <summary>The packaged module's layout: Ceso.PowerShell.dll at the top, the engine and its dependencies in bin/.</summary>
public sealed class LoadContextTests : IDisposable
{
    private readonly string _module = Directory.CreateTempSubdirectory("ceso-module-").FullName;

    public void Dispose() => Directory.Delete(_module, true);

    [Fact]
    public void The_engine_and_yamldotnet_load_into_the_private_context_and_work_there()
    {
        var bin = Directory.CreateDirectory(Path.Combine(_module, "bin")).FullName;
        foreach (var dll in new[] { "Ceso.Engine.dll", "YamlDotNet.dll" })
        {
            File.Copy(Path.Combine(AppContext.BaseDirectory, dll), Path.Combine(bin, dll));
        }

        var home = Directory.CreateDirectory(Path.Combine(_module, "home")).FullName;
        File.WriteAllText(Path.Combine(home, "config.yaml"), "templates:\n  lts:\n    vm: tpl-lts\n");
        var context = new CesoLoadContext(bin);

        var engine = context.LoadFromAssemblyName(new AssemblyName("Ceso.Engine"));
        var homeType = engine.GetType("Ceso.Engine.Connection.CesoHome", throwOnError: true)!;
        var configType = engine.GetType("Ceso.Engine.Configuration.CesoConfig", throwOnError: true)!;
        var config = configType.GetMethod("Load")!.Invoke(null, [Activator.CreateInstance(homeType, home)]);
        var entry = configType.GetMethod("Template")!.Invoke(config, ["lts", "esx"]);

        Assert.Equal("tpl-lts", entry!.GetType().GetProperty("Vm")!.GetValue(entry));
        Assert.Same(context, AssemblyLoadContext.GetLoadContext(engine));
        var yaml = Assert.Single(context.Assemblies, a => a.GetName().Name == "YamlDotNet");
        Assert.StartsWith(bin, yaml.Location);
        Assert.NotSame(typeof(Ceso.Engine.Configuration.CesoConfig).Assembly, engine); // not the test's own copy
    }

    [Fact]
    public void Assemblies_outside_bin_fall_back_to_the_default_context()
    {
        var context = new CesoLoadContext(Path.Combine(_module, "bin"));
        var bcl = context.LoadFromAssemblyName(new AssemblyName("System.Text.Json"));
        Assert.Same(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(bcl));
    }
}
