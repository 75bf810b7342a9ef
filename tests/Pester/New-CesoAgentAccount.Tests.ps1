#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 3
    $script:Admin = Connect-CesoTestBed $script:Bed -NoSsh
    Protect-CesoVm vm02 -Confirm:$false

    function Connect-AsAgent([string] $Agent) {
        $i = $script:Bed.Info
        Connect-CesoServer -Server $i.soapHost -Port $i.soapPort -AgentAccount $Agent -Transport Soap -WarningAction SilentlyContinue
    }
}
AfterAll {
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
            $password = (Get-Content $script:Account.CredentialPath -Raw | ConvertFrom-Json).Password
            Get-Content (Join-Path $script:Bed.CesoHome 'audit' 'audit.jsonl') -Raw | Should -Not -Match ([regex]::Escape($password))
        }

        It 'refuses a second account for the same agent with AgentAccountExists' {
            { New-CesoAgentAccount pester-agent -Server $script:Admin -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'AgentAccountExists,*'
        }
    }
}
