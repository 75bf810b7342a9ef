#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    # Grants are local: a throw-away CESO_HOME, no test bed.
    Enter-CesoTestHome
}
AfterAll {
    Remove-Item Env:CESO_AGENT -ErrorAction SilentlyContinue
    Exit-CesoTestHome
}

Describe 'Get-CesoAgentAccess' {
    It 'writes nothing when no grant was ever made' {
        Get-CesoAgentAccess | Should -BeNullOrEmpty
        Get-CesoAgentAccess -All | Should -BeNullOrEmpty
    }

    It 'lists active grants, filters by agent with wildcards, and shows ended ones with -All' {
        $a = Grant-CesoAgentAccess -Agent bot-a -Duration 1:00:00 -Confirm:$false
        $b = Grant-CesoAgentAccess -Agent bot-b -Operation BackupVm -Confirm:$false
        Revoke-CesoAgentAccess -Id $b.Id -Confirm:$false

        (Get-CesoAgentAccess).Id | Should -Be @($a.Id)
        (Get-CesoAgentAccess -All).Id | Should -Be @($a.Id, $b.Id)
        (Get-CesoAgentAccess 'bot-*' -All | Where-Object Agent -eq 'bot-b').Status | Should -Be 'Revoked'
        Get-CesoAgentAccess bot-b | Should -BeNullOrEmpty
    }

    It 'reads well as a table and as JSON' {
        $table = Get-CesoAgentAccess | Format-Table | Out-String
        $table | Should -Match 'Id\s+Agent\s+Status\s+ExpiresAt\s+GrantedBy\s+Scope'
        $table | Should -Match 'bot-a\s+Active'
        $json = Get-CesoAgentAccess | ConvertTo-Json | ConvertFrom-Json
        $json.Status | Should -Be 'Active'
        $json.Scope | Should -Be 'any change'
    }

    It 'completes agent names from the grants and operations from the ones Ceso plans' {
        $line = 'Get-CesoAgentAccess bot-'
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Be @('bot-a', 'bot-b')
        $line = 'Grant-CesoAgentAccess -Agent x -Operation Restore'
        (TabExpansion2 $line $line.Length).CompletionMatches.CompletionText | Should -Be @('RestoreVm', 'RestoreVmInPlace')
    }

    It 'works in an agent session, so an agent can see what it may do' {
        $env:CESO_AGENT = 'bot-a'
        try { (Get-CesoAgentAccess bot-a).Agent | Should -Be 'bot-a' } finally { Remove-Item Env:CESO_AGENT }
    }
}
