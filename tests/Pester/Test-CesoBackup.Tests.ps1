#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
    $script:RepoPath = New-CesoTestRepository $script:Bed -Name nas
    $null = Connect-CesoTestBed $script:Bed -Transport Ssh
    $script:Backup1 = Backup-CesoVm vm01 -Repository nas -Confirm:$false
    $script:Backup2 = Backup-CesoVm vm02 -Repository nas -Confirm:$false
    Get-CesoServer | Disconnect-CesoServer -Confirm:$false
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Test-CesoBackup' {
    It 'writes RepositoryNotFound when the check cannot run' {
        { Test-CesoBackup -Repository no-such-repo -ErrorAction Stop } | Should -Throw -ErrorId 'RepositoryNotFound,Ceso.PowerShell.Commands.TestCesoBackupCommand'
    }

    It 'writes RepositoryPasswordWrong when the check cannot run' {
        { Test-CesoBackup -Repository nas -Password (ConvertTo-SecureString 'wrong-one' -AsPlainText -Force) -ErrorAction Stop } |
            Should -Throw -ErrorId 'RepositoryPasswordWrong,Ceso.PowerShell.Commands.TestCesoBackupCommand'
    }

    It 'finds a sound repository Ok, with and without -ReadData, and over a subset' {
        $check = Test-CesoBackup -Repository nas
        $check.Ok | Should -BeTrue
        $check.ReadData | Should -BeFalse
        $check.Backups | Should -Be 2
        $full = Test-CesoBackup -Repository nas -ReadData
        $full.Ok | Should -BeTrue
        $full.ReadData | Should -BeTrue
        $full.BlobsRead | Should -BeGreaterThan 0
        $full.Problems | Should -BeNullOrEmpty
        (Test-CesoBackup nas -ReadDataSubset '1/1').BlobsRead | Should -Be $full.BlobsRead
        (Test-CesoBackup nas -ReadDataSubset '100%').Ok | Should -BeTrue
        Test-CesoBackup -Quiet | Should -BeTrue
        $table = $full | Format-Table | Out-String -Width 250
        $table | Should -Match 'Repository\s+Ok\s+ReadData\s+Backups\s+Packs\s+BlobsRead\s+Problems'
        $full | ConvertTo-Json | ConvertFrom-Json | Select-Object -ExpandProperty Ok | Should -BeTrue
    }

    It 'refuses a subset that is neither n/m nor a percentage' {
        { Test-CesoBackup nas -ReadDataSubset 'half' -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Ceso.PowerShell.Commands.TestCesoBackupCommand'
    }

    It 'reports a flipped byte in a pack file as the result (not an error), naming the backup' {
        $pack = Get-ChildItem -Recurse -File (Join-Path $script:RepoPath 'data') | Sort-Object Length -Descending | Select-Object -First 1
        $bytes = [IO.File]::ReadAllBytes($pack.FullName)
        $bytes[[int]($bytes.Length / 2)] = $bytes[[int]($bytes.Length / 2)] -bxor 0x5a
        [IO.File]::WriteAllBytes($pack.FullName, $bytes)

        # The structure is intact, so only -ReadData sees it.
        (Test-CesoBackup -Repository nas).Ok | Should -BeTrue
        $check = Test-CesoBackup -Repository nas -ReadData -ErrorVariable failed
        $failed | Should -BeNullOrEmpty
        $check.Ok | Should -BeFalse
        $check.Problems | Should -Not -BeNullOrEmpty
        ($check.Problems -join "`n") | Should -Match "$($script:Backup1.ShortId)|$($script:Backup2.ShortId)"
        Test-CesoBackup -Repository nas -ReadData -Quiet | Should -BeFalse
        $check | Format-List | Out-String | Should -Match 'Problems\s+: error'
    }
}
