#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    # The agents' passwords go to the credential store: here the encrypted file under the test bed's CESO_HOME.
    $script:OldCredentialStore = @{ Store = $env:CESO_CREDENTIAL_STORE; Pass = $env:CESO_CREDENTIAL_PASSPHRASE }
    $env:CESO_CREDENTIAL_STORE = 'file'; $env:CESO_CREDENTIAL_PASSPHRASE = 'pester-agent-passphrase-3b9e'
    $script:Bed = Start-CesoTestBed -VmCount 3
    $script:RepoPath = New-CesoTestRepository $script:Bed -Name nas
    $null = Connect-CesoTestBed $script:Bed
    # Made by a person, before any agent session: a protected VM and a backup to restore.
    $script:Backup = Backup-CesoVm vm02 -Repository nas -Confirm:$false
    Protect-CesoVm vm02 -Confirm:$false
    $null = Start-CesoVm vm03 -Confirm:$false
    $script:Agent = 'pester-agent'

    function Invoke-AsAgent([scriptblock] $Script) {
        $env:CESO_AGENT = $script:Agent
        try { & $Script } finally { Remove-Item Env:CESO_AGENT -ErrorAction SilentlyContinue }
    }

    function Get-AgentErrors([scriptblock] $Command) {
        # The errors an agent session's command wrote (non-terminating, so the rest of its output is dropped). build.ps1
        # runs Pester with ErrorActionPreference Stop: here they must stay non-terminating to be collected.
        $ErrorActionPreference = 'Continue'
        $env:CESO_AGENT = $script:Agent
        try { @(& $Command 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }) }
        finally { Remove-Item Env:CESO_AGENT -ErrorAction SilentlyContinue }
    }
}
AfterAll {
    $env:CESO_CREDENTIAL_STORE = $script:OldCredentialStore.Store; $env:CESO_CREDENTIAL_PASSPHRASE = $script:OldCredentialStore.Pass
    Remove-Item Env:CESO_AGENT -ErrorAction SilentlyContinue
    Stop-CesoTestBed $script:Bed
}

Describe 'Grant-CesoAgentAccess' {
    It 'has ConfirmImpact High' {
        (Get-Command Grant-CesoAgentAccess).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'High'
    }

    Context 'an agent session without a grant' {
        It 'refuses <Name> with AgentRestricted before any write, naming the digest and the command to allow it' -ForEach @(
            @{ Name = 'New-CesoVm'; Run = { New-CesoVm pester-agent-new -Template vm01 -Confirm:$false } }
            @{ Name = 'Copy-CesoVm'; Run = { Copy-CesoVm vm01 -Name pester-agent-clone -Confirm:$false } }
            @{ Name = 'Set-CesoVm'; Run = { Set-CesoVm vm01 -Notes 'changed by an agent' -Confirm:$false } }
            @{ Name = 'Start-CesoVm'; Run = { Start-CesoVm vm01 -Confirm:$false } }
            @{ Name = 'Stop-CesoVm'; Run = { Stop-CesoVm vm03 -Kill -Confirm:$false } }
            @{ Name = 'Restart-CesoVm'; Run = { Restart-CesoVm vm03 -Confirm:$false } }
            @{ Name = 'Remove-CesoVm'; Run = { Remove-CesoVm vm01 -Confirm:$false } }
            @{ Name = 'Protect-CesoVm'; Run = { Protect-CesoVm vm01 -Confirm:$false } }
            @{ Name = 'Unprotect-CesoVm'; Run = { Unprotect-CesoVm vm02 -Confirm:$false } }
            @{ Name = 'Backup-CesoVm'; Run = { Backup-CesoVm vm01 -Repository nas -Confirm:$false } }
            @{ Name = 'Restore-CesoVm'; Run = { $script:Backup | Restore-CesoVm -AsNew pester-agent-restored -Confirm:$false } }
            @{ Name = 'Remove-CesoBackup'; Run = { Remove-CesoBackup -Repository nas -Id $script:Backup.Id -Confirm:$false } }
            @{ Name = 'New-CesoBackupRepository'; Run = { New-CesoBackupRepository -Name agent-repo -Path (Join-Path $script:Bed.CesoHome 'agent-repo') -Confirm:$false } }
        ) {
            $writes = (Get-CesoTestBedWrites $script:Bed).Count
            $repo = Get-CesoTestRepositoryState $script:RepoPath
            $vms = Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation | ConvertTo-Json

            $err = Get-AgentErrors $Run

            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'AgentRestricted,*'
            $err[0].CategoryInfo.Category | Should -Be 'SecurityError'
            $err[0].Exception.Message | Should -Match "Agent 'pester-agent' is restricted to reads and -WhatIf"
            $err[0].Exception.Message | Should -Match "Grant-CesoAgentAccess -Agent 'pester-agent' -Plan sha256:[0-9a-f]{64} -Duration 1h"
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $writes
            Get-CesoTestRepositoryState $script:RepoPath | Should -Be $repo
            Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation | ConvertTo-Json | Should -Be $vms
            Test-Path (Join-Path $script:Bed.CesoHome 'agent-repo') | Should -BeFalse
        }

        It 'records every refusal in the audit log with the agent''s name' {
            $refused = @(Get-CesoAuditLog -Result refused)
            $refused.Count | Should -BeGreaterOrEqual 13
            $refused | ForEach-Object { $_.Agent | Should -Be 'pester-agent' }
            $refused.Operation | Should -Contain 'CloneVm'
            $refused.Operation | Should -Contain 'NewBackupRepository'
        }

        It 'still reads and previews: -WhatIf prints the plan digest and writes nothing' {
            $writes = (Get-CesoTestBedWrites $script:Bed).Count
            $out = Invoke-AsAgent { Get-CesoVm vm01 | Out-Null; Copy-CesoVm vm01 -Name pester-agent-preview -WhatIf 6>&1 | Out-String }
            $out | Should -Match 'What if: plan sha256:[0-9a-f]{64}'
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $writes
        }

        It 'refuses to grant from an agent session with AgentCannotGrant' {
            { Invoke-AsAgent { Grant-CesoAgentAccess -Agent $script:Agent -Duration 1:00:00 -Confirm:$false -ErrorAction Stop } } |
                Should -Throw -ErrorId 'AgentCannotGrant,Ceso.PowerShell.Commands.GrantCesoAgentAccessCommand'
            Get-CesoAgentAccess | Should -BeNullOrEmpty
        }
    }

    Context 'a plan grant' {
        It 'allows exactly the previewed run, once; another plan stays refused' {
            $preview = Invoke-AsAgent { Copy-CesoVm vm01 -Name pester-agent-copy -WhatIf 6>&1 | Out-String }
            $digest = [regex]::Match($preview, 'What if: plan (sha256:[0-9a-f]{64})').Groups[1].Value
            $digest | Should -Not -BeNullOrEmpty

            $grant = Grant-CesoAgentAccess -Agent $script:Agent -Plan $digest -Confirm:$false
            $grant.Status | Should -Be 'Active'
            $grant.Plan | Should -Be $digest

            $other = Get-AgentErrors { Copy-CesoVm vm01 -Name pester-agent-other -Confirm:$false }
            $other[0].FullyQualifiedErrorId | Should -BeLike 'AgentRestricted,*'

            Invoke-AsAgent { $null = Copy-CesoVm vm01 -Name pester-agent-copy -Confirm:$false -ErrorAction Stop }
            (Get-CesoVm pester-agent-copy).Name | Should -Be 'pester-agent-copy'
            (Get-CesoAgentAccess -All | Where-Object Id -eq $grant.Id).Status | Should -Be 'Used'
            $granted = Get-CesoAuditLog -Result granted -Last 1
            $granted.Agent | Should -Be 'pester-agent'
            $granted.Plan | Should -Be $digest
            $granted.Command | Should -Match $grant.Id

            $again = Get-AgentErrors { Start-CesoVm pester-agent-copy -Confirm:$false }
            $again[0].FullyQualifiedErrorId | Should -BeLike 'AgentRestricted,*'
        }
    }

    Context 'a scoped grant' {
        It 'allows its operations on its VMs only, and nothing after Revoke-CesoAgentAccess' {
            $grant = Grant-CesoAgentAccess -Agent $script:Agent -Operation StartVm, KillVm -Vm 'pester-agent-*' -Duration 0:10:00 -Confirm:$false
            $grant.Scope | Should -Be 'StartVm, KillVm on pester-agent-*'
            Invoke-AsAgent { $null = Start-CesoVm pester-agent-copy -Confirm:$false -ErrorAction Stop }
            (Get-CesoVm pester-agent-copy).PowerState | Should -Be 'PoweredOn'

            $denied = Get-AgentErrors { Stop-CesoVm vm03 -Kill -Confirm:$false }
            $denied[0].FullyQualifiedErrorId | Should -BeLike 'AgentRestricted,*'

            Revoke-CesoAgentAccess $script:Agent -Confirm:$false
            $late = Get-AgentErrors { Stop-CesoVm pester-agent-copy -Kill -Confirm:$false }
            $late[0].FullyQualifiedErrorId | Should -BeLike 'AgentRestricted,*'
            (Get-CesoVm pester-agent-copy).PowerState | Should -Be 'PoweredOn'
        }
    }

    Context 'checks its input' {
        It 'refuses a duration over 7 days with AgentGrantDurationInvalid' {
            { Grant-CesoAgentAccess -Agent $script:Agent -Duration 8.00:00:00 -Confirm:$false -ErrorAction Stop } |
                Should -Throw -ErrorId 'AgentGrantDurationInvalid,Ceso.PowerShell.Commands.GrantCesoAgentAccessCommand'
        }

        It 'refuses an unknown operation with AgentOperationUnknown, listing the known ones' {
            { Grant-CesoAgentAccess -Agent $script:Agent -Operation FormatHost -Confirm:$false -ErrorAction Stop } |
                Should -Throw -ErrorId 'AgentOperationUnknown,Ceso.PowerShell.Commands.GrantCesoAgentAccessCommand' -ExpectedMessage '*CloneVm*'
        }

        It 'refuses a -Plan that is not a digest' {
            { Grant-CesoAgentAccess -Agent $script:Agent -Plan 'abc' -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Ceso.PowerShell.Commands.GrantCesoAgentAccessCommand'
        }

        It 'grants nothing under -WhatIf' {
            $before = @(Get-CesoAgentAccess -All).Count
            Grant-CesoAgentAccess -Agent $script:Agent -WhatIf
            @(Get-CesoAgentAccess -All).Count | Should -Be $before
        }
    }

    Context 'for an agent with an account on the host' {
        BeforeAll {
            $script:HostAgent = 'pester-hostagent'
            $script:Server = $script:Bed.Info.soapHost
            $null = New-CesoAgentAccount $script:HostAgent -Confirm:$false
            if ((Get-CesoVm vm01).PowerState -ne 'PoweredOff') { $null = Stop-CesoVm vm01 -Kill -Confirm:$false }
            $i = $script:Bed.Info
            $script:AgentSession = Connect-CesoServer -Server $i.soapHost -Port $i.soapPort -AgentAccount $script:HostAgent -Transport Soap -WarningAction SilentlyContinue
            $script:Admin = Get-CesoServer | Where-Object Id -ne $script:AgentSession.Id | Select-Object -First 1
            function Invoke-Cron([datetime] $At) {
                & (Join-Path $script:RepoRoot 'testbed' 'bin' 'cesobed') cron-tick -state $script:Bed.Info.stateDir -at $At.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:00Z')
            }
            function Get-HostFile([string] $Path) {
                $i = $script:Bed.Info
                (& ssh -i $i.sshKey -o UserKnownHostsFile=$($i.knownHosts) -o StrictHostKeyChecking=yes -p $i.sshPort "root@127.0.0.1" "cat $Path") -join "`n"
            }
        }
        AfterAll {
            $script:AgentSession | Disconnect-CesoServer -Confirm:$false -ErrorAction SilentlyContinue
            Remove-CesoAgentAccount $script:HostAgent -Server $script:Admin -Confirm:$false -ErrorAction SilentlyContinue
        }

        It 'gives the account an operator permission for the grant: its write works, and fails again once the host removed it at expiry' {
            $err = $null
            Start-CesoVm vm01 -Server $script:AgentSession -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'VimNoPermission,*'

            $grant = Grant-CesoAgentAccess -Agent $script:HostAgent -Server $script:Server -Operation StartVm, KillVm -Duration 00:02:00 -Confirm:$false
            Get-HostFile /var/spool/cron/crontabs/root | Should -Match "ceso-grant $($grant.Id)"
            Get-HostFile /etc/rc.local.d/local.sh | Should -Match "ceso-grant $($grant.Id)"
            $env:CESO_AGENT = $script:HostAgent
            try {
                (Start-CesoVm vm01 -Server $script:AgentSession -Confirm:$false -PassThru).PowerState | Should -Be 'PoweredOn'
                $null = Stop-CesoVm vm01 -Kill -Server $script:AgentSession -Confirm:$false

                Invoke-Cron ([datetime]::new([math]::Ceiling($grant.ExpiresAt.UtcTicks / 600000000) * 600000000, 'Utc')) | Should -Match '^0 /bin/sh'

                # the local grant is still active: it is the host that refuses now
                (Get-CesoAgentAccess $script:HostAgent | Where-Object Id -eq $grant.Id).Status | Should -Be 'Active'
                $err = $null
                Start-CesoVm vm01 -Server $script:AgentSession -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
                $err[0].FullyQualifiedErrorId | Should -BeLike 'VimNoPermission,*'
            }
            finally { Remove-Item Env:CESO_AGENT -ErrorAction SilentlyContinue }
            Get-HostFile /var/spool/cron/crontabs/root | Should -Not -Match $grant.Id
            Revoke-CesoAgentAccess -Id $grant.Id -Confirm:$false -WarningAction SilentlyContinue
        }

        It 'removes the permission, the crontab and the boot line when revoked' {
            $grant = Grant-CesoAgentAccess -Agent $script:HostAgent -Server $script:Server -Duration 01:00:00 -Confirm:$false
            Revoke-CesoAgentAccess -Id $grant.Id -Confirm:$false
            Get-HostFile /var/spool/cron/crontabs/root | Should -Not -Match $grant.Id
            Get-HostFile /etc/rc.local.d/local.sh | Should -Not -Match $grant.Id
            $err = $null
            Start-CesoVm vm01 -Server $script:AgentSession -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'VimNoPermission,*'
        }
    }
}
