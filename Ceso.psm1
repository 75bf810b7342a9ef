# Ceso's root module. Ceso.Loader.dll (the only Ceso assembly in PowerShell's default load context) loads the cmdlet
# assembly, the engine and all their dependencies from bin/ into Ceso's private AssemblyLoadContext; the cmdlets are
# then imported from that assembly. See docs/ARCHITECTURE.md ("Load context").
$importModule = Get-Command -Name Import-Module -Module Microsoft.PowerShell.Core

if (-not ('Ceso.Loader.CesoLoadContext' -as [type])) {
    Add-Type -Path ([IO.Path]::Combine($PSScriptRoot, 'Ceso.Loader.dll'))
}

$cmdletAssembly = [Ceso.Loader.CesoLoadContext]::Initialize()
$inner = & $importModule -Assembly $cmdletAssembly -PassThru -ErrorAction Stop

# A second import in the same session (Import-Module -Force, or Remove-Module then Import-Module) gets PowerShell's
# cached module for the assembly, whose cmdlets are not added to this module's exports
# (https://github.com/PowerShell/PowerShell/issues/20710): add them, so every import exports the same cmdlets.
if ($inner -and $ExecutionContext.SessionState.Module.ExportedCmdlets.Count -eq 0) {
    $addExportedCmdlet = [System.Management.Automation.PSModuleInfo].GetMethod(
        'AddExportedCmdlet', [System.Reflection.BindingFlags]'Instance, NonPublic')
    foreach ($cmdlet in $inner.ExportedCmdlets.Values) {
        $addExportedCmdlet.Invoke($ExecutionContext.SessionState.Module, @(, $cmdlet))
    }
}
