using System.Reflection;
using System.Runtime.Loader;
using Ceso.Loader;

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

/// <summary>Native libraries of assemblies in Ceso's context come from bin/runtimes/&lt;rid&gt;/native/ (SQLite, zstd, …).</summary>
public sealed class NativeLoadContextTests : IDisposable
{
    private readonly string _bin = Directory.CreateTempSubdirectory("ceso-native-").FullName;

    public void Dispose() => Directory.Delete(_bin, true);

    private string PlaceZlibAs(string fileName)
    {
        var zlib = new[] { "/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/aarch64-linux-gnu/libz.so.1", "/usr/lib/libz.so.1" }
            .FirstOrDefault(File.Exists) ?? throw new InvalidOperationException("this test needs the system's zlib (libz.so.1)");
        var rid = CesoLoadContext.RuntimeIdentifiers().Last();
        var native = Directory.CreateDirectory(Path.Combine(_bin, "runtimes", rid, "native")).FullName;
        var path = Path.Combine(native, fileName);
        File.Copy(zlib, path);
        return path;
    }

    [Theory]
    [InlineData("cesoz")]
    [InlineData("libcesoz")]
    [InlineData("libcesoz.so")]
    public void A_native_library_in_runtimes_rid_native_is_found_under_the_names_a_DllImport_uses(string name)
    {
        if (!OperatingSystem.IsLinux()) return;
        var path = PlaceZlibAs("libcesoz.so");
        Assert.Equal(path, new CesoLoadContext(_bin).FindNativeLibrary(name));
    }

    [Fact]
    public void A_library_that_is_not_in_bin_is_left_to_the_runtime()
    {
        Assert.Null(new CesoLoadContext(_bin).FindNativeLibrary("c"));
    }

    [Fact]
    public void A_DllImport_from_an_assembly_in_the_context_loads_the_library_from_bin()
    {
        if (!OperatingSystem.IsLinux()) return;
        var path = PlaceZlibAs("libcesoz.so");
        // This test assembly, loaded a second time into a Ceso context, calls zlibVersion through DllImport("cesoz"):
        // only the context's LoadUnmanagedDll can find that name.
        File.Copy(typeof(NativeProbe).Assembly.Location, Path.Combine(_bin, Path.GetFileName(typeof(NativeProbe).Assembly.Location)));
        var context = new CesoLoadContext(_bin);
        var copy = context.LoadFromAssemblyName(typeof(NativeProbe).Assembly.GetName());
        Assert.Same(context, AssemblyLoadContext.GetLoadContext(copy));

        var version = (string)copy.GetType(typeof(NativeProbe).FullName!, throwOnError: true)!.GetMethod(nameof(NativeProbe.ZlibVersion))!.Invoke(null, null)!;

        Assert.Matches(@"^1\.\d+", version);
        Assert.Throws<DllNotFoundException>(NativeProbe.ZlibVersion); // the default context cannot resolve "cesoz"
        Assert.True(File.Exists(path));
    }
}

/// <summary>Calls into a native library under a name only Ceso's load context resolves.</summary>
public static class NativeProbe
{
    [System.Runtime.InteropServices.DllImport("cesoz", EntryPoint = "zlibVersion")]
    private static extern IntPtr NativeZlibVersion();

    /// <summary>zlib's version string, through the "cesoz" library.</summary>
    public static string ZlibVersion() => System.Runtime.InteropServices.Marshal.PtrToStringAnsi(NativeZlibVersion())!;
}
