#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    # The registry is a local file: no test bed is needed.
    $script:SavedHome = $env:CESO_HOME
    $env:CESO_HOME = Join-Path ([IO.Path]::GetTempPath()) ('ceso-pester-' + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory $env:CESO_HOME
    Set-Content (Join-Path $env:CESO_HOME 'config.yaml') @'
# hand-written
templates:
  ubuntu-24.04:
    vm: tpl-ubuntu-2404
    description: Ubuntu 24.04 LTS
    num-cpu: 2
    memory-mb: 2048
    last-result: "NotReady: CdRom"
    last-checked: "2026-11-30T08:15:00Z"
  ubuntu-22.04: { vm: tpl-ubuntu-2204, server: esx02 }
  debian-12:
    vm: tpl-debian
'@
}
AfterAll {
    Remove-Item -Recurse -Force $env:CESO_HOME -ErrorAction SilentlyContinue
    $env:CESO_HOME = $script:SavedHome
}

Describe 'Get-CesoTemplate' {
    It 'lists every registered template in the file order' {
        (Get-CesoTemplate).Name | Should -Be @('ubuntu-24.04', 'ubuntu-22.04', 'debian-12')
        (Get-CesoTemplate)[0].GetType().FullName | Should -Be 'Ceso.Engine.Model.CesoTemplate'
    }

    It 'filters by wildcard and shows defaults and the last result' {
        $t = Get-CesoTemplate ubuntu*
        $t.Name | Should -Be @('ubuntu-24.04', 'ubuntu-22.04')
        $t[0].NumCpu | Should -Be 2
        $t[0].MemoryMB | Should -Be 2048
        $t[0].LastResult | Should -Be 'NotReady: CdRom'
        $t[0].LastChecked | Should -Be ([DateTimeOffset]::new(2026, 11, 30, 8, 15, 0, [TimeSpan]::Zero))
        $t[1].Server | Should -Be 'esx02'
        $t[1].LastResult | Should -BeNullOrEmpty
        $table = $t | Format-Table | Out-String -Width 200
        $table | Should -Match 'Name\s+Vm\s+Server\s+Defaults\s+LastResult\s+LastChecked\s+Description'
        $table | Should -Match 'ubuntu-22.04\s+tpl-ubuntu-2204\s+esx02\s+never tested'
        (Get-CesoTemplate debian-12 | ConvertTo-Json | ConvertFrom-Json).Vm | Should -Be 'tpl-debian'
    }

    It 'writes TemplateNotRegistered for an exact name that is not there, and nothing for a wildcard' {
        { Get-CesoTemplate centos -ErrorAction Stop } | Should -Throw -ErrorId 'TemplateNotRegistered,Ceso.PowerShell.Commands.GetCesoTemplateCommand'
        Get-CesoTemplate centos* -ErrorVariable failed | Should -BeNullOrEmpty
        $failed | Should -BeNullOrEmpty
    }

    It 'writes InvalidConfiguration for a broken config.yaml' {
        $file = Join-Path $env:CESO_HOME 'config.yaml'
        $good = Get-Content -Raw $file
        try {
            Set-Content $file "templates:`n  a:`n    vm: [unclosed`n"
            { Get-CesoTemplate -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidConfiguration,Ceso.PowerShell.Commands.GetCesoTemplateCommand'
        } finally {
            Set-Content $file $good -NoNewline
        }
    }
}
