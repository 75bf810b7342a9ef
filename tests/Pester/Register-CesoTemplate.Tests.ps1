#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
    $script:Config = Join-Path $env:CESO_HOME 'config.yaml'
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'Register-CesoTemplate' {
    It 'without a session writes the entry unchecked, with a warning' {
        $t = Register-CesoTemplate offline -Vm vm-anywhere -Confirm:$false -WarningVariable warned -WarningAction SilentlyContinue
        $warned | Should -Not -BeNullOrEmpty
        $t.GetType().FullName | Should -Be 'Ceso.Engine.Model.CesoTemplate'
        (Get-CesoTemplate offline).Vm | Should -Be 'vm-anywhere'
    }

    It 'adds the entry with its defaults and keeps the rest of config.yaml as it was' {
        $null = Connect-CesoTestBed $script:Bed
        $before = "# my lab`nrepositories:`n  nas:`n    location: /mnt/nas # nightly`n"
        Set-Content -Path $script:Config -Value $before.TrimEnd("`n")
        $t = Register-CesoTemplate golden -Vm vm02 -Description 'Ubuntu 24.04' -NumCpu 4 -MemoryMB 3072 -DiskGB 20 -Network 'Lab Network' -Confirm:$false
        $t.Name | Should -Be 'golden'
        ($t.NumCpu, $t.MemoryMB, $t.DiskGB, $t.Network) | Should -Be @(4, 3072, 20, 'Lab Network')
        $text = Get-Content -Raw $script:Config
        $text.StartsWith($before) | Should -BeTrue
        $text | Should -Match "templates:`n  golden:`n    vm: `"vm02`"`n    description: `"Ubuntu 24.04`"`n    num-cpu: 4`n    memory-mb: 3072`n    disk-gb: 20`n    network: `"Lab Network`""
        ($t | Format-Table | Out-String -Width 200) | Should -Match 'golden\s+vm02\s+\(any\)\s+4 vCPU, 3072 MB, 20 GB, Lab Network\s+never tested'
    }

    It 'refuses a taken name, an unknown VM and an unknown network when connected' {
        { Register-CesoTemplate golden -Vm vm01 -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'TemplateNameExists,Ceso.PowerShell.Commands.RegisterCesoTemplateCommand'
        { Register-CesoTemplate other -Vm no-such-vm -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'VmNotFound,Ceso.PowerShell.Commands.RegisterCesoTemplateCommand'
        { Register-CesoTemplate other -Vm vm01 -Network 'No Such Net' -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'NetworkNotFound,Ceso.PowerShell.Commands.RegisterCesoTemplateCommand'
        { Register-CesoTemplate 'bad name' -Vm vm01 -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidTemplateName,Ceso.PowerShell.Commands.RegisterCesoTemplateCommand'
        Get-CesoTemplate other -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It '-WhatIf writes nothing' {
        $before = Get-Content -Raw $script:Config
        Register-CesoTemplate preview -Vm (Get-CesoVm vm01) -WhatIf
        Get-Content -Raw $script:Config | Should -Be $before
    }

    It 'New-CesoVm takes the defaults of a registered template and notes where they came from' {
        $notes = @()
        New-CesoVm web01 -Template golden -MemoryGB 1 -WhatIf -InformationVariable notes -InformationAction SilentlyContinue
        $text = ($notes | ForEach-Object { "$_" }) -join "`n"
        $text | Should -Match "from the template registry \(.*config.yaml, template 'golden'\): 4 vCPU, first disk 20 GB, network 'Lab Network'"
        $text | Should -Not -Match '3072 MB memory'
        (Get-CesoTestBedWrites $script:Bed).Count | Should -Be 0
    }

    It 'New-CesoVm -Template completes the registry names' {
        $c = TabExpansion2 -inputScript 'New-CesoVm web02 -Template gol' -cursorColumn 'New-CesoVm web02 -Template gol'.Length
        $c.CompletionMatches.CompletionText | Should -Contain 'golden'
    }
}
