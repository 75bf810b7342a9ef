# A narrow fake of Microsoft.PowerShell.SecretManagement (not installable here) for -SecretName/-PasswordSecretName:
# a module folder of that name whose Get-Secret behaves as the real one does for what Ceso uses — a PSCredential as
# stored, a string secret as a SecureString unless -AsPlainText, a missing secret as the non-terminating error
# GetSecretNotFound (ObjectNotFound, ItemNotFoundException "The secret NAME was not found."), an unknown -Vault as a
# terminating error. Secrets live in the module's memory, added with Set-Secret as with the real module.

function New-FakeSecretManagement {
    # Writes the fake module under a new temporary folder and returns that folder (to prepend to $env:PSModulePath).
    $root = Join-Path ([IO.Path]::GetTempPath()) ('ceso-fake-secretmanagement-' + [guid]::NewGuid().ToString('N'))
    $dir = Join-Path $root 'Microsoft.PowerShell.SecretManagement'
    $null = New-Item -ItemType Directory -Path $dir
    Set-Content (Join-Path $dir 'Microsoft.PowerShell.SecretManagement.psd1') @'
@{
    RootModule = 'Microsoft.PowerShell.SecretManagement.psm1'
    ModuleVersion = '1.1.2'
    GUID = 'a5c858f6-4a8e-41f1-b1ee-0ff8f6ad69d3'
    Description = 'Test fake of SecretManagement (Get-Secret, Set-Secret)'
    FunctionsToExport = @('Get-Secret', 'Set-Secret')
    CmdletsToExport = @()
    VariablesToExport = @()
    AliasesToExport = @()
}
'@
    Set-Content (Join-Path $dir 'Microsoft.PowerShell.SecretManagement.psm1') @'
$script:Vaults = @{ FakeVault = @{} }

function Set-Secret {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0)] [string] $Name, [Parameter(Mandatory, Position = 1)] [object] $Secret, [string] $Vault = 'FakeVault')
    if (-not $script:Vaults.ContainsKey($Vault)) { $script:Vaults[$Vault] = @{} }
    $script:Vaults[$Vault][$Name] = $Secret
}

function Get-Secret {
    [CmdletBinding()]
    param([Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)] [string] $Name,
        [Parameter(Position = 1)] [string] $Vault, [switch] $AsPlainText)
    if ($Vault -and -not $script:Vaults.ContainsKey($Vault)) {
        $PSCmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new(
            [Management.Automation.ItemNotFoundException]::new("Vault not found in registry: $Vault"), 'GetSecretVaultNotFound', 'InvalidArgument', $Vault))
    }
    foreach ($v in @(if ($Vault) { $Vault } else { $script:Vaults.Keys })) {
        if ($script:Vaults[$v].ContainsKey($Name)) {
            $s = $script:Vaults[$v][$Name]
            if (-not $AsPlainText -and $s -is [string]) { return (ConvertTo-SecureString $s -AsPlainText -Force) }
            if ($AsPlainText -and $s -is [securestring]) { return [Net.NetworkCredential]::new('', $s).Password }
            return $s
        }
    }
    $PSCmdlet.WriteError([Management.Automation.ErrorRecord]::new(
        [Management.Automation.ItemNotFoundException]::new("The secret $Name was not found."), 'GetSecretNotFound', 'ObjectNotFound', $Name))
}
'@
    $root
}

function Enable-FakeSecretManagement([string] $Root) {
    # Makes the fake the module PowerShell finds (and auto-loads for Get-Secret); returns the old PSModulePath.
    $old = $env:PSModulePath
    $env:PSModulePath = $Root + [IO.Path]::PathSeparator + $env:PSModulePath
    Import-Module Microsoft.PowerShell.SecretManagement -Force -Global
    $old
}

function Disable-FakeSecretManagement([string] $OldPath) {
    Remove-Module Microsoft.PowerShell.SecretManagement -ErrorAction SilentlyContinue
    $env:PSModulePath = $OldPath
}
