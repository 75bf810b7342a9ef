#Requires -Modules Pester
# Backup-CesoVm killed with SIGKILL half-way (no cleanup can run): the repository has no snapshot from it, its lock is
# stale at once (the pid is dead), the next backup reuses what arrived and the repository passes Test-CesoBackup -ReadData.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 1
    $script:RepoPath = New-CesoTestRepository $script:Bed -Name killed
    # 400 MiB of incompressible data, so the backup runs long enough to be killed after its first pack is saved.
    $flat = Get-CesoTestBedFlatDisk $script:Bed vm01
    $f = [IO.File]::OpenWrite($flat)
    try {
        $rng = [Random]::new(11)
        $buffer = [byte[]]::new(4MB)
        $f.Position = 8MB
        for ($i = 0; $i -lt 100; $i++) { $rng.NextBytes($buffer); $f.Write($buffer, 0, $buffer.Length) }
    } finally { $f.Dispose() }
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Backup-CesoVm killed with SIGKILL' {
    It 'leaves no backup, and the next backup completes and checks clean' {
        $i = $script:Bed.Info
        $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$($script:ModulePath)'
`$cred = [pscredential]::new('$($i.username)', (ConvertTo-SecureString '$($i.password)' -AsPlainText -Force))
`$null = Connect-CesoServer -Server $($i.soapHost) -Port $($i.soapPort) -Credential `$cred -SshUser $($i.sshUser) -SshPort $($i.sshPort) -SshKeyPath '$($i.sshKey)' -KnownHostsPath '$($i.knownHosts)' -SshConfigFile none -Transport Ssh -WarningAction SilentlyContinue
Backup-CesoVm vm01 -Repository killed -Confirm:`$false
"@
        $file = Join-Path $script:Bed.CesoHome 'killed-backup.ps1'
        Set-Content -Path $file -Value $script
        $psi = [Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
        if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($a in '-NoProfile', '-NonInteractive', '-File', $file) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.UseShellExecute = $false
        $psi.Environment['CESO_HOME'] = $script:Bed.CesoHome
        $psi.Environment['CESO_REPOSITORY_PASSWORD'] = $env:CESO_REPOSITORY_PASSWORD
        $child = [Diagnostics.Process]::Start($psi)
        $packs = Join-Path $script:RepoPath 'data'
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        while (-not $child.HasExited -and [DateTime]::UtcNow -lt $deadline -and
            -not (Test-Path $packs) -or @(Get-ChildItem -Recurse -File $packs -ErrorAction SilentlyContinue).Count -eq 0) {
            if ($child.HasExited) { break }
            Start-Sleep -Milliseconds 20
        }
        $child.HasExited | Should -BeFalse -Because 'the backup must still run when its first pack is saved (it is killed then)'
        & kill -KILL $child.Id
        $child.WaitForExit(10000) | Should -BeTrue

        @(Get-ChildItem -Recurse -File $packs).Count | Should -BeGreaterThan 0
        Get-ChildItem (Join-Path $script:RepoPath 'snapshots') -File -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        @(Get-ChildItem (Join-Path $script:RepoPath 'locks') -File -ErrorAction SilentlyContinue).Count | Should -Be 1 -Because 'the killed backup could not remove its lock'

        $null = Connect-CesoTestBed $script:Bed -Transport Ssh
        $backup = Backup-CesoVm vm01 -Repository killed -Confirm:$false
        $backup.Vm | Should -Be 'vm01'
        $backup.DataBytes | Should -BeGreaterThan 400MB
        @(Get-CesoBackup -Repository killed).Count | Should -Be 1
        $check = Test-CesoBackup -Repository killed -ReadData
        $check.Ok | Should -BeTrue -Because ($check.Problems -join '; ')
        Get-CesoVm vm01 | Select-Object -ExpandProperty SnapshotCount | Should -Be 0
    }
}
