#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 1
    # An operator key that is NOT in the test bed's authorized_keys: only a certificate from the bed's user CA lets it in.
    $script:Keys = Join-Path $script:Bed.CesoHome 'keys'
    $null = New-Item -ItemType Directory $script:Keys
    $script:Key = Join-Path $script:Keys 'operator'
    & ssh-keygen -q -t ed25519 -N '' -C operator -f $script:Key
    $script:Ca = $script:Bed.Info.userCaKey

    function Connect-WithCertificate([string] $Certificate) {
        $i = $script:Bed.Info
        Connect-CesoServer -Server $i.soapHost -Transport Ssh -SshUser $i.sshUser -SshPort $i.sshPort -SshKeyPath $script:Key `
            -SshCertificate $Certificate -KnownHostsPath $i.knownHosts -SshConfigFile none -ErrorAction Stop
    }
}
AfterAll {
    Remove-Item Env:CESO_AGENT -ErrorAction SilentlyContinue
    Stop-CesoTestBed $script:Bed
}

Describe 'New-CesoSshCertificate' {
    It 'the operator key alone does not log in' {
        $i = $script:Bed.Info
        { Connect-CesoServer -Server $i.soapHost -Transport Ssh -SshUser $i.sshUser -SshPort $i.sshPort -SshKeyPath $script:Key `
            -KnownHostsPath $i.knownHosts -SshConfigFile none -ErrorAction Stop } | Should -Throw
    }

    It 'shows the exact ssh-keygen command under -WhatIf and issues nothing' {
        $out = New-CesoSshCertificate $script:Key -CaKeyPath $script:Ca -WhatIf 6>&1 | Out-String
        Test-Path "$($script:Key)-cert.pub" | Should -BeFalse
        (Get-CesoAuditLog -Operation IssueSshCertificate -Result preview).Command | Should -Match "^ssh-keygen -q -s '?[^ ]*user_ca'? -I .* -n root -V -1m:\+28800s -z \d+ "
    }

    It 'issues a certificate with the key id, principal and validity asked, next to the key' {
        $cert = New-CesoSshCertificate $script:Key -CaKeyPath $script:Ca -KeyId 'pester: change 4711' -Validity 1:00:00 -Confirm:$false
        $cert.Path | Should -Be "$($script:Key)-cert.pub"
        $cert.KeyId | Should -Be 'pester: change 4711'
        $cert.Principals | Should -Be @('root')
        ($cert.ValidTo - [DateTimeOffset]::UtcNow).TotalMinutes | Should -BeGreaterThan 55
        ($cert.ValidTo - [DateTimeOffset]::UtcNow).TotalMinutes | Should -BeLessOrEqual 61
        $record = Get-CesoAuditLog -Operation IssueSshCertificate -Result ok -Last 1
        $record.Command | Should -Match 'pester: change 4711'
        ($cert | Format-Table | Out-String) | Should -Match 'pester: change 4711\s+root'
    }

    It 'logs in over SSH with it, and the session''s audit records carry its key id' {
        $session = Connect-WithCertificate "$($script:Key)-cert.pub"
        $session.SshCertificateKeyId | Should -Be 'pester: change 4711'
        (Get-CesoVm).Count | Should -Be 1
        Protect-CesoVm vm01 -Confirm:$false
        (Get-CesoAuditLog -Operation ProtectVm -Result ok -Last 1).SshCertificate | Should -Be 'pester: change 4711'
        Unprotect-CesoVm vm01 -Confirm:$false
        $session | Disconnect-CesoServer -Confirm:$false
    }

    It 'refuses an expired certificate with SshCertificateExpired before connecting, and the host refuses it too' {
        $old = Join-Path $script:Keys 'old'
        Copy-Item "$($script:Key).pub" "$old.pub"
        & ssh-keygen -q -s $script:Ca -I expired -n root -V 20200101:20200102 -z 7 "$old.pub"
        { Connect-WithCertificate "$old-cert.pub" } | Should -Throw -ErrorId 'SshCertificateExpired,Ceso.PowerShell.Commands.ConnectCesoServerCommand'
        $i = $script:Bed.Info
        & ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none -i $script:Key -o "CertificateFile=$old-cert.pub" `
            -o "UserKnownHostsFile=$($i.knownHosts)" -p $i.sshPort "$($i.sshUser)@127.0.0.1" true 2>$null
        $LASTEXITCODE | Should -Be 255
    }

    It 'refuses a certificate for another user with SshCertificatePrincipal' {
        $other = New-CesoSshCertificate $script:Key -CaKeyPath $script:Ca -Principal admin -OutputPath (Join-Path $script:Keys 'admin-cert.pub') -Confirm:$false
        { Connect-WithCertificate $other.Path } | Should -Throw -ErrorId 'SshCertificatePrincipal,Ceso.PowerShell.Commands.ConnectCesoServerCommand'
    }

    It 'keeps an existing certificate unless -Force, and refuses a validity over 30 days' {
        { New-CesoSshCertificate $script:Key -CaKeyPath $script:Ca -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'SshCertificateExists,Ceso.PowerShell.Commands.NewCesoSshCertificateCommand'
        (New-CesoSshCertificate $script:Key -CaKeyPath $script:Ca -Force -Confirm:$false).KeyId | Should -Match '@'
        { New-CesoSshCertificate $script:Key -CaKeyPath $script:Ca -Validity 31.00:00:00 -Force -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'SshCertificateValidityInvalid,Ceso.PowerShell.Commands.NewCesoSshCertificateCommand'
    }

    It 'names a missing CA key with SshCaKeyNotFound' {
        { New-CesoSshCertificate $script:Key -CaKeyPath (Join-Path $script:Keys 'nope') -Force -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'SshCaKeyNotFound,Ceso.PowerShell.Commands.NewCesoSshCertificateCommand'
    }

    It 'is refused in an agent session, whatever was granted' {
        $null = Grant-CesoAgentAccess -Agent pester-bot -Confirm:$false
        $env:CESO_AGENT = 'pester-bot'
        try {
            $errs = @(New-CesoSshCertificate $script:Key -CaKeyPath $script:Ca -Force -Confirm:$false -ErrorAction Continue 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        }
        finally { Remove-Item Env:CESO_AGENT }
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'AgentRestricted,*'
    }
}
