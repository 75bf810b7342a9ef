#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
}
AfterAll { Stop-CesoTestBed $script:Bed }

Describe 'New-CesoVm' {
    Context 'without a session' {
        It 'fails with NotConnected' {
            { New-CesoVm x -Template y -ErrorAction Stop } | Should -Throw -ErrorId 'NotConnected,Ceso.PowerShell.Commands.NewCesoVmCommand'
        }
    }

    Context 'over <Transport>' -ForEach @(@{ Transport = 'Soap' }, @{ Transport = 'Ssh' }) {
        BeforeAll {
            $script:Session = Connect-CesoTestBed $script:Bed -Transport $Transport
            $script:Vm = (Get-CesoVm)[0]
        }
        AfterAll { Get-CesoServer | Disconnect-CesoServer -Confirm:$false }

        It 'writes TemplateNotFound for a template that does not exist' {
            { New-CesoVm pester-nf -Template no-such-template -ErrorAction Stop } | Should -Throw -ErrorId 'TemplateNotFound,Ceso.PowerShell.Commands.NewCesoVmCommand'
        }

        It 'writes InvalidIPAddress for an address without a prefix length' {
            { New-CesoVm pester-new1 -Template $script:Vm.Name -IPAddress 10.0.0.5 -ErrorAction Stop } |
                Should -Throw -ErrorId 'InvalidIPAddress,Ceso.PowerShell.Commands.NewCesoVmCommand'
        }

        It 'writes VmExists for a name that is taken' {
            { New-CesoVm $script:Vm.Name -Template $script:Vm.Name -ErrorAction Stop } |
                Should -Throw -ErrorId 'VmExists,Ceso.PowerShell.Commands.NewCesoVmCommand'
        }

        It 'refuses -WaitForIp without -PowerOn' {
            { New-CesoVm pester-new2 -Template $script:Vm.Name -WaitForIp -ErrorAction Stop } |
                Should -Throw -ErrorId 'WaitForIpNeedsPowerOn,Ceso.PowerShell.Commands.NewCesoVmCommand'
        }

        It 'refuses a private key as -SshKey' {
            $key = Join-Path TestDrive: 'id_test'
            Set-Content $key "-----BEGIN OPENSSH PRIVATE KEY-----`nxx`n-----END OPENSSH PRIVATE KEY-----"
            { New-CesoVm pester-new3 -Template $script:Vm.Name -SshKey $key -ErrorAction Stop } |
                Should -Throw -ErrorId 'SshKeyIsPrivate,Ceso.PowerShell.Commands.NewCesoVmCommand'
        }

        It 'changes nothing on the host under -WhatIf' {
            $before = (Get-CesoTestBedWrites $script:Bed).Count
            $state = Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation
            $out = New-CesoVm pester-whatif -Template $script:Vm.Name -IPAddress 10.0.0.5/24 -SshKey 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7 me@host' -PowerOn -WhatIf
            $out | Should -BeNullOrEmpty
            Get-CesoVm -Name pester-whatif -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $before
            Get-CesoVm | Select-Object Name, PowerState, NumCpu, MemoryMB, Annotation | ConvertTo-Json | Should -Be ($state | ConvertTo-Json)
        }

        It 'runs nothing, asks once and audits every step as declined when the first step is declined at -Confirm' {
            $before = (Get-CesoTestBedWrites $script:Bed).Count
            $out = Invoke-CesoTestBedPrompted $script:Bed -Transport $Transport -Answers 'N' `
                -Script "New-CesoVm pester-declined -Template '$($script:Vm.Name)' -IPAddress 10.0.0.9/24 -Confirm"
            ([regex]::Matches($out, 'Are you sure you want to perform this action')).Count | Should -Be 1 -Because $out
            (Get-CesoTestBedWrites $script:Bed).Count | Should -Be $before
            Get-CesoVm -Name pester-declined -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $records = @(Get-CesoAuditLog | Where-Object Vm -eq 'pester-declined')
            $records.Count | Should -BeGreaterThan 1
            $records.Result | Sort-Object -Unique | Should -Be 'declined'
        }

        It 'prints the plan digest with -WhatIf, the same for the same request, and records it with the preview' {
            $a = New-CesoVm pester-digest -Template $script:Vm.Name -IPAddress 10.0.0.8/24 -WhatIf 6>&1 | Out-String
            $b = New-CesoVm pester-digest -Template $script:Vm.Name -IPAddress 10.0.0.8/24 -WhatIf 6>&1 | Out-String
            $a | Should -Match 'What if: plan sha256:[0-9a-f]{64}'
            $digest = [regex]::Match($a, 'What if: plan (sha256:[0-9a-f]{64})').Groups[1].Value
            $b | Should -Match ([regex]::Escape($digest))
            (Get-CesoAuditLog | Where-Object Vm -eq 'pester-digest' | Select-Object -Last 1).Plan | Should -Be $digest
        }

        It 'creates a VM from a template and writes it' {
            $vm = New-CesoVm pester-new -Template $script:Vm.Name -IPAddress 10.0.0.7/24 -Confirm:$false
            $vm.GetType().FullName | Should -Be 'Ceso.Engine.Model.CesoVm' # a type of Ceso's private load context: no type literal
            $vm.Name | Should -Be 'pester-new'
            $vm.BiosUuid | Should -Not -Be $script:Vm.BiosUuid
            Remove-CesoVm pester-new -Confirm:$false
        }
    }
}
