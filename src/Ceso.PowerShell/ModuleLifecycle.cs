using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Ceso.PowerShell;

/// <summary>
/// Remove-Module: the runspace's sessions are closed (SOAP logout, SSH shell exit). Loading is Ceso.psm1's job: it asks
/// Ceso.Loader for this assembly, already inside Ceso's private load context (docs/ARCHITECTURE.md).
/// </summary>
public sealed class ModuleLifecycle : IModuleAssemblyCleanup
{
    /// <summary>Called by PowerShell when the module is removed.</summary>
    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        if (Runspace.DefaultRunspace is { } runspace)
        {
            SessionRegistry.Of(runspace).DisposeAll();
        }
    }
}
