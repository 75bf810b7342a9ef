using System.Reflection;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.Loader;

namespace Ceso.PowerShell;

/// <summary>
/// Import-Module: Ceso.Engine (and its dependencies) load from the module's bin/ folder into <see cref="CesoLoadContext"/>.
/// Remove-Module: the runspace's sessions are closed (SOAP logout, SSH shell exit).
/// </summary>
public sealed class ModuleLifecycle : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    // Assemblies are process-wide, so the context is too: one per process, made on first import.
    private static readonly Lazy<CesoLoadContext> Context = new(() =>
        new CesoLoadContext(Path.Combine(Path.GetDirectoryName(typeof(ModuleLifecycle).Assembly.Location)!, "bin")));

    /// <summary>Called by PowerShell when the module is imported.</summary>
    public void OnImport() => AssemblyLoadContext.Default.Resolving += Resolve;

    /// <summary>Called by PowerShell when the module is removed.</summary>
    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        if (Runspace.DefaultRunspace is { } runspace)
        {
            SessionRegistry.Of(runspace).DisposeAll();
        }

        AssemblyLoadContext.Default.Resolving -= Resolve;
    }

    // Only the engine is redirected: its own dependencies then resolve inside the private context.
    private static Assembly? Resolve(AssemblyLoadContext defaultContext, AssemblyName name) =>
        name.Name == "Ceso.Engine" && File.Exists(Path.Combine(Context.Value.Folder, "Ceso.Engine.dll"))
            ? Context.Value.LoadFromAssemblyName(name)
            : null;
}
