#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    # The agents' passwords go to the credential store: here the encrypted file under the test bed's CESO_HOME.
    $script:OldCredentialStore = @{ Store = $env:CESO_CREDENTIAL_STORE; Pass = $env:CESO_CREDENTIAL_PASSPHRASE }
    $env:CESO_CREDENTIAL_STORE = 'file'; $env:CESO_CREDENTIAL_PASSPHRASE = 'pester-agent-passphrase-3b9e'
    $script:Bed = Start-CesoTestBed -VmCount 3
    $script:Admin = Connect-CesoTestBed $script:Bed -NoSsh
    Protect-CesoVm vm02 -Confirm:$false

    function Get-AgentPassword([string] $Agent) {
        # The agent's password as the engine reads it from the credential store (no cmdlet shows a secret).
        $engine = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Ceso.Engine' } | Select-Object -First 1
        $settings = $engine.GetType('Ceso.Engine.Security.Credentials.CredentialStoreSettings').GetConstructors()[0].Invoke(@('file', $env:CESO_CREDENTIAL_PASSPHRASE, $null, $null))
        $homeType = $engine.GetType('Ceso.Engine.Connection.CesoHome')
        $cesoHome = $homeType.GetConstructors()[0].Invoke(@($script:Bed.CesoHome))
        $homeType.GetProperty('CredentialSettings').SetValue($cesoHome, $settings)
        $engine.GetType('Ceso.Engine.Security.AgentCredentialStore').GetConstructors()[0].Invoke(@($cesoHome, $null)).Read($Agent).Password
    }

    function Connect-AsAgent([string] $Agent) {
        $i = $script:Bed.Info
        Connect-CesoServer -Server $i.soapHost -Port $i.soapPort -AgentAccount $Agent -Transport Soap -WarningAction SilentlyContinue
    }
}
AfterAll {
    $env:CESO_CREDENTIAL_STORE = $script:OldCredentialStore.Store; $env:CESO_CREDENTIAL_PASSPHRASE = $script:OldCredentialStore.Pass
    Remove-Item Env:CESO_AGENT -ErrorAction SilentlyContinue
    Stop-CesoTestBed $script:Bed
}

Describe 'New-CesoAgentAccount' {
    It 'has ConfirmImpact High' {
        (Get-Command New-CesoAgentAccount).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'High'
    }

    It 'is refused in an agent session with AgentCannotManageAccounts, before any write' {
        $writes = (Get-CesoTestBedWrites $script:Bed).Count
        $env:CESO_AGENT = 'pester-agent'
        try { { New-CesoAgentAccount pester-agent -Confirm:$false } | Should -Throw -ErrorId 'AgentCannotManageAccounts,*' }
        finally { Remove-Item Env:CESO_AGENT -ErrorAction SilentlyContinue }
        (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $writes
    }

    It '-WhatIf shows the exact calls with the password masked and changes nothing' {
        $writes = (Get-CesoTestBedWrites $script:Bed).Count
        New-CesoAgentAccount preview -Server $script:Admin -WhatIf
        $out = (Get-CesoAuditLog -Result preview | Where-Object Operation -eq 'NewAgentAccount').Command -join "`n"
        $out | Should -Match 'CreateUser\(user.id="ceso-preview", user.password=<redacted>'
        $out | Should -Match 'SetEntityPermissions\(entity=Folder:ha-folder-root, principal="ceso-preview", group=false, role=ReadOnly'
        $out | Should -Match 'SetEntityPermissions\(entity=VirtualMachine:\d+, principal="ceso-preview", group=false, role=NoAccess'
        (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $writes
        Test-Path (Join-Path $script:Bed.CesoHome 'agents' 'preview.credential.json') | Should -BeFalse
    }

    It 'is refused with CredentialStoreLocked before any write when the credential store cannot take the password (no passphrase)' {
        $writes = (Get-CesoTestBedWrites $script:Bed).Count
        $pass = $env:CESO_CREDENTIAL_PASSPHRASE
        try {
            $env:CESO_CREDENTIAL_PASSPHRASE = $null
            { New-CesoAgentAccount locked -Server $script:Admin -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'CredentialStoreLocked,*'
        }
        finally { $env:CESO_CREDENTIAL_PASSPHRASE = $pass }
        (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $writes
        Test-Path (Join-Path $script:Bed.CesoHome 'agents' 'locked.credential.json') | Should -BeFalse
    }

    Context 'an account made by a person' {
        BeforeAll {
            $script:Account = New-CesoAgentAccount pester-agent -Server $script:Admin -Confirm:$false
            $script:AgentSession = Connect-AsAgent pester-agent
        }
        AfterAll {
            $script:AgentSession | Disconnect-CesoServer -Confirm:$false -ErrorAction SilentlyContinue
            Remove-CesoAgentAccount pester-agent -Server $script:Admin -Confirm:$false -ErrorAction SilentlyContinue
        }

        It 'returns the account: user, read-only role, No Access on the protected VM, the credential file (0600)' {
            $script:Account.User | Should -Be 'ceso-pester-agent'
            $script:Account.Role | Should -Be 'ReadOnly'
            $script:Account.NoAccessVm | Should -Be @('vm02')
            (Get-Item $script:Account.CredentialPath).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite')
        }

        It 'lets the agent read the inventory with its own account' {
            (Get-CesoVm -Server $script:AgentSession).Name | Should -Contain 'vm01'
        }

        It 'gets its writes refused by the host with VimNoPermission' {
            $err = $null
            Start-CesoVm vm01 -Server $script:AgentSession -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'VimNoPermission,*'
            $err[0].CategoryInfo.Category | Should -Be 'SecurityError'
            (Get-CesoVm vm01 -Server $script:Admin).PowerState | Should -Be 'PoweredOff'
        }

        It 'never writes the password to the audit log' {
            $password = Get-AgentPassword pester-agent
            $password | Should -Not -BeNullOrEmpty
            Get-Content (Join-Path $script:Bed.CesoHome 'audit' 'audit.jsonl') -Raw | Should -Not -Match ([regex]::Escape($password))
        }

        It 'keeps the password in the credential store (agent:pester-agent), and only the rest in the credential file' {
            $text = Get-Content $script:Account.CredentialPath -Raw
            $file = $text | ConvertFrom-Json
            $file.PSObject.Properties.Name | Should -Not -Contain 'Password'
            $file.CredentialName | Should -Be 'agent:pester-agent'
            $file.User | Should -Be 'ceso-pester-agent'
            (Get-CesoCredential agent:pester-agent).UserName | Should -Be 'ceso-pester-agent'
            $text | Should -Not -Match ([regex]::Escape((Get-AgentPassword pester-agent)))
        }

        It 'migrates a credential file from before the store (password in it) when the agent connects, and rewrites it without the password' {
            $password = Get-AgentPassword pester-agent
            $old = (Get-Content $script:Account.CredentialPath -Raw) -replace '^\s*\{', ('{ "Password": "' + $password + '",')
            Set-Content $script:Account.CredentialPath $old -NoNewline
            Remove-CesoCredential agent:pester-agent -Confirm:$false
            Get-CesoCredential agent:pester-agent -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

            $session = Connect-AsAgent pester-agent
            try { (Get-CesoVm -Server $session).Name | Should -Contain 'vm01' }
            finally { $session | Disconnect-CesoServer -Confirm:$false }

            (Get-Content $script:Account.CredentialPath -Raw) | Should -Not -Match ([regex]::Escape($password))
            (Get-CesoCredential agent:pester-agent).UserName | Should -Be 'ceso-pester-agent'
            Get-AgentPassword pester-agent | Should -Be $password
        }

        It 'refuses a second account for the same agent with AgentAccountExists' {
            { New-CesoAgentAccount pester-agent -Server $script:Admin -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'AgentAccountExists,*'
        }
    }
}
