using System.Reflection;
using System.Runtime.Loader;

namespace Ceso.PowerShell;

/// <summary>
/// The private load context of the engine and its dependencies (YamlDotNet today; SQLite and libzstd later), which the
/// packaged module keeps in its bin/ folder. Another module that loaded a different YamlDotNet into the default
/// context cannot break Ceso, and Ceso cannot break it. Whatever is not in bin/ (the BCL, System.Management.Automation)
/// resolves from the default context as usual.
/// </summary>
public sealed class CesoLoadContext(string folder) : AssemblyLoadContext("Ceso", isCollectible: false)
{
    /// <summary>The folder the private assemblies are loaded from.</summary>
    public string Folder { get; } = folder;

    /// <inheritdoc />
    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var path = Path.Combine(Folder, assemblyName.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }
}
