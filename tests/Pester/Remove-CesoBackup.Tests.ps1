#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
    $script:Password = 'pester-remove-secret'
    $script:RepoPath = New-CesoTestRepository $script:Bed -Name nas -Password $script:Password
    $null = Connect-CesoTestBed $script:Bed -Transport Ssh
    $script:Vm01 = 1..3 | ForEach-Object { Backup-CesoVm vm01 -Repository nas -Confirm:$false }
    $script:Vm02 = 1..2 | ForEach-Object { Backup-CesoVm vm02 -Repository nas -Confirm:$false }
    Get-CesoServer | Disconnect-CesoServer -Confirm:$false
    $script:Audit = Join-Path $script:Bed.CesoHome 'audit' 'audit.jsonl'
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Remove-CesoBackup' {
    It 'declares ConfirmImpact High' {
        (Get-Command Remove-CesoBackup).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0].ConfirmImpact | Should -Be 'High'
    }

    It 'writes RepositoryNotFound for a name that is not registered' {
        { Remove-CesoBackup -Repository no-such-repo -Id abc -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'RepositoryNotFound,Ceso.PowerShell.Commands.RemoveCesoBackupCommand'
    }

    It 'writes BackupNotFound for an unknown id and removes nothing' {
        $state = Get-CesoTestRepositoryState $script:RepoPath
        { Remove-CesoBackup -Repository nas -Id fffffff0 -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'BackupNotFound,Ceso.PowerShell.Commands.RemoveCesoBackupCommand'
        Get-CesoTestRepositoryState $script:RepoPath | Should -Be $state
    }

    It 'shows a retention policy under -WhatIf: a decision per backup, the plan, and nothing removed' {
        $state = Get-CesoTestRepositoryState $script:RepoPath
        $decisions = Remove-CesoBackup -Repository nas -KeepLast 1 -WhatIf -InformationVariable notes
        $decisions | Should -HaveCount 5
        $removed = $decisions | Where-Object Action -EQ Remove
        $removed.Backup.Id | Sort-Object | Should -Be (@($script:Vm01[0].Id, $script:Vm01[1].Id, $script:Vm02[0].Id) | Sort-Object)
        ($decisions | Where-Object Action -EQ Keep).Reasons | Should -Be @('last', 'last')
        @($notes | Where-Object { $_.Tags -contains 'PlanNote' }) | Should -HaveCount 2
        Get-CesoTestRepositoryState $script:RepoPath | Should -Be $state
        (Get-CesoBackup -Repository nas).Count | Should -Be 5
        Get-Content -Raw $script:Audit | Should -Match '"result":"preview"'
        Get-Content -Raw $script:Audit | Should -Not -Match $script:Password
        $table = $decisions | Format-Table | Out-String -Width 250
        $table | Should -Match 'Action\s+ShortId\s+Vm\s+Time\s+Reasons'
        $table | Should -Match "Keep\s+$($script:Vm01[2].ShortId)\s+vm01\s+\S+ \S+\s+last"
    }

    It 'applies the policy to the VMs -Vm selects, for real, and frees their data' {
        $decisions = Remove-CesoBackup -Repository nas -KeepLast 1 -Vm 'vm0[1]' -Confirm:$false
        ($decisions | Where-Object Action -EQ Remove).Backup.Id | Sort-Object | Should -Be (@($script:Vm01[0].Id, $script:Vm01[1].Id) | Sort-Object)
        (Get-CesoBackup -Repository nas).Id | Should -Be @($script:Vm01[2].Id, $script:Vm02[0].Id, $script:Vm02[1].Id)
        (Test-CesoBackup -Repository nas -ReadData).Ok | Should -BeTrue
    }

    It 'removes piped backups by id; -WhatIf first lists them and removes nothing' {
        $state = Get-CesoTestRepositoryState $script:RepoPath
        $shown = Get-CesoBackup -Repository nas -Vm vm02 | Remove-CesoBackup -WhatIf
        $shown.Action | Should -Be @('Remove', 'Remove')
        Get-CesoTestRepositoryState $script:RepoPath | Should -Be $state

        Get-CesoBackup -Repository nas -Vm vm02 | Remove-CesoBackup -NoPrune -Confirm:$false | Should -BeNullOrEmpty
        (Get-CesoBackup -Repository nas).Id | Should -Be @($script:Vm01[2].Id)
        # Without a prune the data stays: the check warns about unused data but is Ok.
        (Test-CesoBackup -Repository nas).Ok | Should -BeTrue
    }

    It 'refuses a policy without any Keep rule' {
        { Remove-CesoBackup -Repository nas -Vm vm01 -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'BackupInvalidArgument,Ceso.PowerShell.Commands.RemoveCesoBackupCommand'
        (Get-CesoBackup -Repository nas).Count | Should -Be 1
    }
}
