#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
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
}
