#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 1
    Connect-CesoTestBed $script:Bed | Out-Null
    $vm = (Get-CesoVm)[0]
    Start-CesoVm $vm.Name -Confirm:$false
    Stop-CesoVm $vm.Name -Kill -Confirm:$false
    $script:Log = Join-Path $env:CESO_HOME 'audit' 'audit.jsonl'
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Test-CesoAuditLog' {
    It 'finds an untouched log intact' {
        $check = Test-CesoAuditLog
        $check.Intact | Should -BeTrue
        $check.Records | Should -BeGreaterThan 1
    }

    It 'converts to flat JSON and lists without record syntax' {
        (Test-CesoAuditLog | ConvertTo-Json | ConvertFrom-Json).Intact | Should -BeTrue
        (Test-CesoAuditLog | Format-List | Out-String) | Should -Not -Match '\{ '
    }

    It 'writes AuditLogTampered when a record was removed' {
        $lines = Get-Content $script:Log
        Set-Content $script:Log ($lines | Select-Object -Skip 1)
        { Test-CesoAuditLog -ErrorAction Stop } | Should -Throw -ErrorId 'AuditLogTampered,Ceso.PowerShell.Commands.TestCesoAuditLogCommand'
        (Test-CesoAuditLog -ErrorAction SilentlyContinue).FirstBrokenLine | Should -Be 1
        Set-Content $script:Log $lines
    }

    It 'writes AuditLogTampered naming the line when a line is blank or not JSON' {
        $lines = @(Get-Content $script:Log)
        Set-Content $script:Log (@($lines[0], 'not json') + $lines[1..($lines.Count - 1)])
        { Test-CesoAuditLog -ErrorAction Stop } | Should -Throw -ErrorId 'AuditLogTampered,Ceso.PowerShell.Commands.TestCesoAuditLogCommand'
        (Test-CesoAuditLog -ErrorAction SilentlyContinue).FirstBrokenLine | Should -Be 2
        $records = Get-CesoAuditLog -ErrorVariable readErrors -ErrorAction SilentlyContinue
        @($records).Count | Should -Be $lines.Count
        $readErrors[0].FullyQualifiedErrorId | Should -Be 'AuditLogTampered,Ceso.PowerShell.Commands.GetCesoAuditLogCommand'
        $readErrors[0].Exception.Message | Should -BeLike '*Line 2 *'
        Set-Content $script:Log $lines
    }
}
