@{
    RootModule           = 'Ceso.psm1'
    # Must equal VersionPrefix in Directory.Build.props (checked by tests/Unit/ModuleContractTests.cs).
    ModuleVersion        = '0.1.0'
    GUID                 = '6f0b7c52-3d1e-4a8b-9c55-2e7d4f1a9b63'
    Author               = 'Ceso contributors'
    CompanyName          = 'Ceso'
    Copyright            = '(c) Ceso contributors'
    Description          = 'Manage a standalone VMware ESXi host (no vCenter) over the vSphere API (SOAP) and SSH.'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'
    FormatsToProcess     = @('Ceso.Format.ps1xml')
    CmdletsToExport      = @(
        'Backup-CesoVm'
        'Connect-CesoServer'
        'Copy-CesoVm'
        'Disconnect-CesoServer'
        'Get-CesoAgentAccess'
        'Get-CesoAuditLog'
        'Get-CesoBackup'
        'Get-CesoCredential'
        'Get-CesoDatastore'
        'Get-CesoFirewallAllowlist'
        'Get-CesoHost'
        'Get-CesoIPLease'
        'Get-CesoIPPool'
        'Get-CesoNetwork'
        'Get-CesoServer'
        'Get-CesoTemplate'
        'Get-CesoVm'
        'Grant-CesoAgentAccess'
        'New-CesoAgentAccount'
        'New-CesoBackupRepository'
        'New-CesoIPPool'
        'New-CesoSshCertificate'
        'New-CesoVm'
        'Protect-CesoVm'
        'Register-CesoTemplate'
        'Remove-CesoAgentAccount'
        'Remove-CesoBackup'
        'Remove-CesoIPLease'
        'Remove-CesoIPPool'
        'Remove-CesoCredential'
        'Remove-CesoVm'
        'Restart-CesoVm'
        'Restore-CesoVm'
        'Revoke-CesoAgentAccess'
        'Set-CesoFirewallAllowlist'
        'Save-CesoCredential'
        'Set-CesoVm'
        'Start-CesoVm'
        'Stop-CesoVm'
        'Test-CesoAuditLog'
        'Test-CesoBackup'
        'Test-CesoTemplate'
        'Unprotect-CesoVm'
        'Unregister-CesoTemplate'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('VMware', 'ESXi', 'vSphere', 'SSH', 'Virtualization')
            ProjectUri = 'https://github.com/ceso/ceso'
        }
    }
}
