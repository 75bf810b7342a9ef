#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    Enter-CesoTestHome
}
AfterAll {
    Remove-Item Env:CESO_AGENT -ErrorAction SilentlyContinue
    Exit-CesoTestHome
}

Describe 'Revoke-CesoAgentAccess' {
    It 'revokes nothing under -WhatIf' {
        $g = Grant-CesoAgentAccess -Agent bot -Confirm:$false
        Revoke-CesoAgentAccess bot -WhatIf
        (Get-CesoAgentAccess bot).Id | Should -Be $g.Id
    }

    It 'revokes every active grant of an agent and records it' {
        $null = Grant-CesoAgentAccess -Agent bot -Operation StartVm -Confirm:$false
        $revoked = Revoke-CesoAgentAccess bot -PassThru -Confirm:$false
        $revoked | Should -HaveCount 2
        $revoked.Status | Should -Be @('Revoked', 'Revoked')
        Get-CesoAgentAccess bot | Should -BeNullOrEmpty
        (Get-CesoAuditLog -Operation RevokeAgentAccess -Result ok).Count | Should -Be 2
    }

    It 'takes grants from the pipeline by id' {
        $null = Grant-CesoAgentAccess -Agent bot2 -Confirm:$false
        $null = Grant-CesoAgentAccess -Agent bot2 -Operation BackupVm -Confirm:$false
        Get-CesoAgentAccess bot2 | Where-Object Scope -eq 'BackupVm' | Revoke-CesoAgentAccess -Confirm:$false
        (Get-CesoAgentAccess bot2).Scope | Should -Be 'any change'
    }

    It 'is not an error when there is nothing to revoke, but an unknown id is AgentGrantNotFound' {
        { Revoke-CesoAgentAccess nobody -Confirm:$false -ErrorAction Stop } | Should -Not -Throw
        { Revoke-CesoAgentAccess -Id g-000000000000 -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'AgentGrantNotFound,Ceso.PowerShell.Commands.RevokeCesoAgentAccessCommand'
    }

    It 'may be run by the agent itself (giving up access is always allowed)' {
        $null = Grant-CesoAgentAccess -Agent bot3 -Confirm:$false
        $env:CESO_AGENT = 'bot3'
        try { Revoke-CesoAgentAccess bot3 -Confirm:$false -ErrorAction Stop } finally { Remove-Item Env:CESO_AGENT }
        Get-CesoAgentAccess bot3 | Should -BeNullOrEmpty
    }
}
