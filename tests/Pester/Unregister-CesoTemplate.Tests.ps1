#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    # The registry is a local file: no test bed is needed.
    $script:SavedHome = $env:CESO_HOME
    $env:CESO_HOME = Join-Path ([IO.Path]::GetTempPath()) ('ceso-pester-' + [guid]::NewGuid().ToString('N'))
    $null = New-Item -ItemType Directory $env:CESO_HOME
    $script:Config = Join-Path $env:CESO_HOME 'config.yaml'
}
AfterAll {
    Remove-Item -Recurse -Force $env:CESO_HOME -ErrorAction SilentlyContinue
    $env:CESO_HOME = $script:SavedHome
}

Describe 'Unregister-CesoTemplate' {
    BeforeEach {
        Set-Content $script:Config "# lab`ntemplates:`n  a:`n    vm: tpl-a # first`n  b:`n    vm: tpl-b`n  c: { vm: tpl-c }`nrepositories:`n  nas:`n    location: /mnt/nas" -NoNewline
    }

    It 'has ConfirmImpact Medium and supports -WhatIf, which changes nothing' {
        $attribute = (Get-Command Unregister-CesoTemplate).ImplementingType.GetCustomAttributes($true) | Where-Object { $_.GetType().Name -eq 'CmdletAttribute' }
        $attribute.ConfirmImpact | Should -Be 'Medium'
        $before = Get-Content -Raw $script:Config
        Unregister-CesoTemplate a -WhatIf
        Get-Content -Raw $script:Config | Should -Be $before
    }

    It 'removes only the entry''s lines and keeps the rest of the file' {
        $removed = Unregister-CesoTemplate b -Confirm:$false -PassThru
        $removed.Vm | Should -Be 'tpl-b'
        Get-Content -Raw $script:Config | Should -Be "# lab`ntemplates:`n  a:`n    vm: tpl-a # first`n  c: { vm: tpl-c }`nrepositories:`n  nas:`n    location: /mnt/nas`n"
        Unregister-CesoTemplate b -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable failed
        $failed[0].FullyQualifiedErrorId | Should -Be 'TemplateNotRegistered,Ceso.PowerShell.Commands.UnregisterCesoTemplateCommand'
    }

    It 'takes Get-CesoTemplate output from the pipeline, a flow-style entry too' {
        Get-CesoTemplate a, c | Unregister-CesoTemplate -Confirm:$false
        (Get-CesoTemplate).Name | Should -Be @('b')
        Get-Content -Raw $script:Config | Should -Match 'repositories:\n  nas:\n    location: /mnt/nas'
    }
}
