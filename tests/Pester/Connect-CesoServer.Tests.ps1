#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    . (Join-Path $PSScriptRoot 'FakeSecretManagement.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 1
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Connect-CesoServer' {
    AfterEach { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

    It 'connects over both transports, reads over SOAP and becomes the default session' {
        $s = Connect-CesoTestBed $script:Bed
        $s.GetType().FullName | Should -Be 'Ceso.PowerShell.CesoServerInfo' # a type of Ceso's private load context: no type literal
        $s.Transport | Should -Be 'Soap'
        $s.SoapConnected | Should -BeTrue
        $s.SshConnected | Should -BeTrue
        $s.IsDefault | Should -BeTrue
        $s.Version | Should -Not -BeNullOrEmpty
        (Get-CesoServer | Where-Object IsDefault).Id | Should -Be $s.Id
    }

    It 'warns with the thumbprint it pinned on first use, and not on the next connection' {
        Remove-Item (Join-Path $env:CESO_HOME 'tls-thumbprints.json') -ErrorAction SilentlyContinue
        $i = $script:Bed.Info
        $cred = Get-CesoTestBedCredential $script:Bed
        $null = Connect-CesoServer -Server $i.soapHost -Port $i.soapPort -Credential $cred -WarningVariable first -WarningAction SilentlyContinue
        ($first -join "`n") | Should -Match ([regex]::Escape($i.thumbprintSha256))
        $null = Connect-CesoServer -Server $i.soapHost -Port $i.soapPort -Credential $cred -WarningVariable second -WarningAction SilentlyContinue
        $second | Should -BeNullOrEmpty
    }

    It 'connects over SSH only' {
        $s = Connect-CesoTestBed $script:Bed -NoSoap -Transport Ssh
        $s.Transport | Should -Be 'Ssh'
        $s.SoapConnected | Should -BeFalse
        $s.Version | Should -Not -BeNullOrEmpty
    }

    It 'refuses a certificate that does not match -Thumbprint with TlsThumbprintMismatch' {
        $i = $script:Bed.Info
        $wrong = (1..32 | ForEach-Object { 'AB' }) -join ':'
        { Connect-CesoServer -Server $i.soapHost -Port $i.soapPort -Credential (Get-CesoTestBedCredential $script:Bed) -Thumbprint $wrong -ErrorAction Stop } |
            Should -Throw -ErrorId 'TlsThumbprintMismatch,Ceso.PowerShell.Commands.ConnectCesoServerCommand'
    }

    It 'refuses an SSH host key that is not in known_hosts with SshHostKeyUnknown' {
        $i = $script:Bed.Info
        $empty = New-TemporaryFile
        try {
            { Connect-CesoServer -Server $i.sshHost -SshPort $i.sshPort -SshUser $i.sshUser -SshKeyPath $i.sshKey -KnownHostsPath $empty.FullName -SshConfigFile none -Transport Ssh -ErrorAction Stop } |
                Should -Throw -ErrorId 'SshHostKeyUnknown,Ceso.PowerShell.Commands.ConnectCesoServerCommand'
        }
        finally { Remove-Item $empty }
    }

    It 'rejects a wrong password with VimInvalidLogin' {
        $i = $script:Bed.Info
        $bad = [pscredential]::new('root', (ConvertTo-SecureString 'wrong' -AsPlainText -Force))
        { Connect-CesoServer -Server $i.soapHost -Port $i.soapPort -Credential $bad -Transport Soap -WarningAction SilentlyContinue -ErrorAction Stop } |
            Should -Throw -ErrorId 'VimInvalidLogin,Ceso.PowerShell.Commands.ConnectCesoServerCommand'
    }

    It 'rejects a profile without any transport with InvalidConnectionProfile' {
        { Connect-CesoServer -Server 127.0.0.1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidConnectionProfile,Ceso.PowerShell.Commands.ConnectCesoServerCommand'
    }

    It 'connects even under -WhatIf, so later previews can read the host' {
        $s = Connect-CesoTestBed $script:Bed -WhatIf
        $s | Should -Not -BeNullOrEmpty
    }

    Context '-SecretName (PowerShell SecretManagement, here a fake module of that name)' {
        BeforeAll {
            $script:FakeRoot = New-FakeSecretManagement
            $script:OldModulePath = Enable-FakeSecretManagement $script:FakeRoot
            $i = $script:Bed.Info
            Set-Secret -Name ceso-api -Secret (Get-CesoTestBedCredential $script:Bed)
            Set-Secret -Name ceso-api-other -Secret (Get-CesoTestBedCredential $script:Bed) -Vault OtherVault
            Set-Secret -Name just-a-password -Secret 'Connect-Plain-5e0d'
            $script:Soap = @{ Server = $i.soapHost; Port = $i.soapPort; Transport = 'Soap'; WarningAction = 'SilentlyContinue' }
        }
        AfterAll {
            Disable-FakeSecretManagement $script:OldModulePath
            Remove-Item -Recurse -Force $script:FakeRoot
        }

        It 'logs in to the API with the PSCredential that Get-Secret returns' {
            $s = Connect-CesoServer @script:Soap -SecretName ceso-api
            $s.SoapConnected | Should -BeTrue
            (Get-CesoVm).Count | Should -Be 1
        }

        It 'reads the secret from the vault -Vault names' {
            (Connect-CesoServer @script:Soap -SecretName ceso-api-other -Vault OtherVault).SoapConnected | Should -BeTrue
            { Connect-CesoServer @script:Soap -SecretName ceso-api -Vault OtherVault -ErrorAction Stop } |
                Should -Throw -ErrorId 'SecretNotFound,Ceso.PowerShell.Commands.ConnectCesoServerCommand'
        }

        It 'a secret that does not exist is SecretNotFound, with the name as target' {
            $e = @(Connect-CesoServer @script:Soap -SecretName no-such-secret -ErrorAction Continue 2>&1)
            $e[0].FullyQualifiedErrorId | Should -Be 'SecretNotFound,Ceso.PowerShell.Commands.ConnectCesoServerCommand'
            $e[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $e[0].TargetObject | Should -Be 'no-such-secret'
            Get-CesoServer | Should -BeNullOrEmpty
        }

        It 'a secret that is not a PSCredential is SecretWrongType' {
            { Connect-CesoServer @script:Soap -SecretName just-a-password -ErrorAction Stop } |
                Should -Throw -ErrorId 'SecretWrongType,Ceso.PowerShell.Commands.ConnectCesoServerCommand'
        }

        It '-SecretName with -Credential or -CredentialName is CredentialAmbiguous, before anything is read' {
            { Connect-CesoServer @script:Soap -SecretName no-such-secret -Credential (Get-CesoTestBedCredential $script:Bed) -ErrorAction Stop } |
                Should -Throw -ErrorId 'CredentialAmbiguous,Ceso.PowerShell.Commands.ConnectCesoServerCommand'
            { Connect-CesoServer @script:Soap -SecretName no-such-secret -CredentialName esx01 -ErrorAction Stop } |
                Should -Throw -ErrorId 'CredentialAmbiguous,Ceso.PowerShell.Commands.ConnectCesoServerCommand'
        }

        It 'without the module installed it is SecretManagementNotInstalled, which says what to do' {
            $path = $env:PSModulePath
            try {
                Disable-FakeSecretManagement $script:OldModulePath
                $e = @(Connect-CesoServer @script:Soap -SecretName ceso-api -ErrorAction Continue 2>&1)
            }
            finally { $env:PSModulePath = $path; Import-Module Microsoft.PowerShell.SecretManagement -Global }
            $e[0].FullyQualifiedErrorId | Should -Be 'SecretManagementNotInstalled,Ceso.PowerShell.Commands.ConnectCesoServerCommand'
            $e[0].TargetObject | Should -Be 'ceso-api'
            $e[0].Exception.Message | Should -Match 'Install-PSResource Microsoft\.PowerShell\.SecretManagement'
            $e[0].Exception.Message | Should -Match 'Save-CesoCredential'
        }
    }
}
