using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Ceso.PowerShell;

/// <summary>Remove-Module Ceso closes the sessions of the runspace that removes it (SOAP logout, SSH shell exit).</summary>
public sealed class ModuleCleanup : IModuleAssemblyCleanup
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
