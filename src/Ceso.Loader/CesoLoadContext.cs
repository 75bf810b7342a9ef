using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace Ceso.Loader;

/// <summary>
/// Ceso's private load context. The packaged module keeps every Ceso assembly except this loader in its bin/ folder:
/// the cmdlets (Ceso.PowerShell.dll), the engine and all their NuGet dependencies, managed (YamlDotNet) and native
/// (bin/runtimes/&lt;rid&gt;/native/, e.g. SQLite's e_sqlite3). They load here, so another module that loaded a different
/// YamlDotNet or SQLite into PowerShell's default context cannot break Ceso, and Ceso cannot break it. What is not in
/// bin/ (the BCL, System.Management.Automation) resolves from the default context as usual, so the cmdlet types and
/// PowerShell's types are the ones PowerShell itself uses.
/// </summary>
/// <remarks>
/// Why the cmdlet assembly lives here and not in the default context: Import-Module calls GetExportedTypes() on a
/// binary module's assembly (InitialSessionState.ImportCmdletsFromAssembly) before any IModuleAssemblyInitializer
/// runs, and the exported types refer to engine types, so a resolver hooked in OnImport came too late and the import
/// failed with "Could not load file or assembly 'Ceso.Engine'" (reproduced with the engine and YamlDotNet in bin/). Loading the cmdlet assembly itself into this context makes its references resolve here from the
/// start (the shape PSOpenAD uses: a tiny loader in the default context, Import-Module -Assembly on the result).
/// </remarks>
public sealed class CesoLoadContext : AssemblyLoadContext
{
    private static readonly object Sync = new();
    private static CesoLoadContext? _instance;

    private readonly Assembly _loader = typeof(CesoLoadContext).Assembly;

    /// <summary>A context over <paramref name="folder"/> (the module's bin/).</summary>
    public CesoLoadContext(string folder)
        : base("Ceso", isCollectible: false) => Folder = Path.GetFullPath(folder);

    /// <summary>The folder the private assemblies and native libraries are loaded from.</summary>
    public string Folder { get; }

    /// <summary>
    /// The module's cmdlet assembly, loaded into the one private context of this process (assemblies are process-wide,
    /// so every runspace and every re-import shares it). Called by Ceso.psm1.
    /// </summary>
    public static Assembly Initialize()
    {
        lock (Sync)
        {
            var root = Path.GetDirectoryName(typeof(CesoLoadContext).Assembly.Location)
                ?? throw new InvalidOperationException("Ceso.Loader.dll has no location: load it from a file.");
            _instance ??= new CesoLoadContext(Path.Combine(root, "bin"));
            var cmdlets = Path.Combine(_instance.Folder, "Ceso.PowerShell.dll");
            if (!File.Exists(cmdlets))
            {
                throw new FileNotFoundException(
                    $"The Ceso module is incomplete: '{cmdlets}' is missing. Reinstall the module or run ./build.ps1 -Task Package.",
                    cmdlets);
            }

            return _instance.LoadFromAssemblyName(new AssemblyName("Ceso.PowerShell"));
        }
    }

    /// <inheritdoc />
    protected override Assembly? Load(AssemblyName assemblyName)
    {
        // The loader is shared with the default context: one CesoLoadContext type, whoever asks.
        if (AssemblyName.ReferenceMatchesDefinition(_loader.GetName(), assemblyName))
        {
            return _loader;
        }

        var path = Path.Combine(Folder, assemblyName.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    /// <inheritdoc />
    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = FindNativeLibrary(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }

    /// <summary>
    /// The file a DllImport of <paramref name="name"/> from an assembly of this context resolves to, or null to let the
    /// runtime search as usual (system libraries such as libc). Looks in bin/runtimes/&lt;rid&gt;/native/ for this
    /// process's runtime identifier and its portable form, then in bin/ itself, with the platform's prefix and suffix.
    /// </summary>
    internal string? FindNativeLibrary(string name)
    {
        foreach (var folder in NativeFolders())
        {
            foreach (var file in NativeFileNames(name))
            {
                var path = Path.Combine(folder, file);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }

        return null;
    }

    private IEnumerable<string> NativeFolders()
    {
        foreach (var rid in RuntimeIdentifiers())
        {
            yield return Path.Combine(Folder, "runtimes", rid, "native");
        }

        yield return Folder;
    }

    /// <summary>This process's runtime identifier first (e.g. linux-musl-x64), then the portable one (linux-x64).</summary>
    internal static IEnumerable<string> RuntimeIdentifiers()
    {
        var arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        return new[] { RuntimeInformation.RuntimeIdentifier, $"{os}-{arch}" }.Distinct(StringComparer.Ordinal);
    }

    /// <summary>The file names a native library may have here: as given, and with lib/.so, .dylib or .dll added.</summary>
    internal static IEnumerable<string> NativeFileNames(string name)
    {
        var (prefix, suffix) = OperatingSystem.IsWindows() ? ("", ".dll") : OperatingSystem.IsMacOS() ? ("lib", ".dylib") : ("lib", ".so");
        var names = new List<string>();
        var hasSuffix = name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) || name.Contains(suffix + ".", StringComparison.Ordinal);
        if (hasSuffix)
        {
            names.Add(name);
        }

        names.Add(name + suffix);
        if (prefix.Length > 0 && !Path.GetFileName(name).StartsWith(prefix, StringComparison.Ordinal))
        {
            names.Add(prefix + name + suffix);
            if (hasSuffix)
            {
                names.Add(prefix + name);
            }
        }

        return names.Distinct(StringComparer.Ordinal);
    }
}
