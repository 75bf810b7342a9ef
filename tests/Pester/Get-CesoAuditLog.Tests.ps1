#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
    Connect-CesoTestBed $script:Bed | Out-Null
    $script:Vm = (Get-CesoVm)[0]
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Get-CesoAuditLog' {
    It 'returns nothing before any change' {
        Get-CesoAuditLog | Should -BeNullOrEmpty
    }

    It 'converts to JSON with plain values and lists without record syntax' {
        Start-CesoVm $script:Vm.Name -WhatIf
        $record = Get-CesoAuditLog -Last 1
        $record | ConvertTo-Json | Should -Match '"Result": "preview"'
        ($record | Format-List | Out-String) | Should -Not -Match '\{ '
    }

    It 'records a -WhatIf preview per step, and the steps of a real run' {
        Start-CesoVm $script:Vm.Name -WhatIf
        $preview = @(Get-CesoAuditLog -Vm $script:Vm.Name -Result preview)
        $preview.Count | Should -BeGreaterThan 0
        $preview[0].Operation | Should -Be 'StartVm'

        Start-CesoVm $script:Vm.Name -Confirm:$false
        $ok = Get-CesoAuditLog -Vm $script:Vm.Name -Result ok -Last 1
        $ok.Command | Should -Match 'PowerOnVM_Task|power\.on'
        Stop-CesoVm $script:Vm.Name -Kill -Confirm:$false
    }

    It 'filters by operation with wildcards' {
        Get-CesoAuditLog -Operation '*Vm' | Should -Not -BeNullOrEmpty
        Get-CesoAuditLog -Operation 'NoSuchOperation' | Should -BeNullOrEmpty
    }

    It 'never shows the API password' {
        Get-CesoAuditLog | ConvertTo-Json | Should -Not -Match ([regex]::Escape($script:Bed.Info.password))
    }
}
