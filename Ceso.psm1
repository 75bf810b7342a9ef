# Ceso's root module. Ceso.Loader.dll (the only Ceso assembly in PowerShell's default load context) loads the cmdlet
# assembly, the engine and all their dependencies from bin/ into Ceso's private AssemblyLoadContext; the cmdlets are
# then imported from that assembly. See docs/ARCHITECTURE.md ("Load context").
$importModule = Get-Command -Name Import-Module -Module Microsoft.PowerShell.Core

$loaderType = 'Ceso.Loader.CesoLoadContext' -as [type]
if (-not $loaderType) {
    Add-Type -Path ([IO.Path]::Combine($PSScriptRoot, 'Ceso.Loader.dll'))
}
elseif ([IO.Path]::GetDirectoryName($loaderType.Assembly.Location) -ne [IO.Path]::GetFullPath($PSScriptRoot).TrimEnd([IO.Path]::DirectorySeparatorChar)) {
    # Assemblies cannot be unloaded: a process that loaded Ceso from one folder would silently run that copy's engine.
    throw [System.InvalidOperationException]::new(
        "Ceso from '$([IO.Path]::GetDirectoryName($loaderType.Assembly.Location))' is already loaded in this PowerShell process; " +
        "another copy ('$PSScriptRoot') cannot be loaded beside it. Start a new pwsh to use that one.")
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
