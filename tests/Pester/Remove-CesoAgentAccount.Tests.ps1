#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    # The agents' passwords go to the credential store: here the encrypted file under the test bed's CESO_HOME.
    $script:OldCredentialStore = @{ Store = $env:CESO_CREDENTIAL_STORE; Pass = $env:CESO_CREDENTIAL_PASSPHRASE }
    $env:CESO_CREDENTIAL_STORE = 'file'; $env:CESO_CREDENTIAL_PASSPHRASE = 'pester-agent-passphrase-3b9e'
    $script:Bed = Start-CesoTestBed -VmCount 2
    $script:Admin = Connect-CesoTestBed $script:Bed -NoSsh
}
AfterAll {
    $env:CESO_CREDENTIAL_STORE = $script:OldCredentialStore.Store; $env:CESO_CREDENTIAL_PASSPHRASE = $script:OldCredentialStore.Pass
    Remove-Item Env:CESO_AGENT -ErrorAction SilentlyContinue
    Stop-CesoTestBed $script:Bed
}

Describe 'Remove-CesoAgentAccount' {
    It 'has ConfirmImpact High' {
        (Get-Command Remove-CesoAgentAccount).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'High'
    }

    It 'is refused in an agent session with AgentCannotManageAccounts' {
        $env:CESO_AGENT = 'pester-agent'
        try { { Remove-CesoAgentAccount pester-agent -Confirm:$false } | Should -Throw -ErrorId 'AgentCannotManageAccounts,*' }
        finally { Remove-Item Env:CESO_AGENT -ErrorAction SilentlyContinue }
    }

    It 'says AgentAccountNotFound for an agent without an account' {
        $err = $null
        Remove-CesoAgentAccount nobody -Server $script:Admin -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AgentAccountNotFound,*'
    }

    It 'removes the user and the credential: the agent can no longer log in' {
        $account = New-CesoAgentAccount gone -Server $script:Admin -Confirm:$false
        $i = $script:Bed.Info

        $removed = Remove-CesoAgentAccount gone -Server $script:Admin -Confirm:$false -PassThru

        $removed.User | Should -Be 'ceso-gone'
        Test-Path $account.CredentialPath | Should -BeFalse
        $err = $null
        Connect-CesoServer -Server $i.soapHost -Port $i.soapPort -AgentAccount gone -Transport Soap -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AgentAccountNotFound,*'
        $cred = [pscredential]::new('ceso-gone', (ConvertTo-SecureString 'whatever-1A' -AsPlainText -Force))
        Connect-CesoServer -Server $i.soapHost -Port $i.soapPort -Credential $cred -Transport Soap -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'VimInvalidLogin,*'
    }

    It 'removes an account while the credential store is locked (no passphrase): only the file is read' {
        $account = New-CesoAgentAccount locked -Server $script:Admin -Confirm:$false
        $saved = $env:CESO_CREDENTIAL_PASSPHRASE
        Remove-Item Env:CESO_CREDENTIAL_PASSPHRASE
        try {
            $removed = Remove-CesoAgentAccount locked -Server $script:Admin -Confirm:$false -PassThru -ErrorVariable err
            $err | Should -BeNullOrEmpty
            $removed.User | Should -Be 'ceso-locked'
            Test-Path $account.CredentialPath | Should -BeFalse
        } finally {
            $env:CESO_CREDENTIAL_PASSPHRASE = $saved
        }
        $i = $script:Bed.Info
        $cred = [pscredential]::new('ceso-locked', (ConvertTo-SecureString 'whatever-1A' -AsPlainText -Force))
        Connect-CesoServer -Server $i.soapHost -Port $i.soapPort -Credential $cred -Transport Soap -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'VimInvalidLogin,*'
    }
}
