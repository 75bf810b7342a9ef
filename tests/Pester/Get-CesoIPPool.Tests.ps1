#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    Enter-CesoTestHome
}
AfterAll { Exit-CesoTestHome }

Describe 'Get-CesoIPPool' {
    It 'writes nothing when there is no pool' {
        Get-CesoIPPool | Should -BeNullOrEmpty
    }

    It 'lists pools by name with wildcards, and IPPoolNotFound for an exact name that matches none' {
        New-CesoIPPool lab 10.0.0.0/24 10.0.0.50-10.0.0.99 | Out-Null
        New-CesoIPPool lab6 fd00:10::/64 fd00:10::10-fd00:10::1f | Out-Null
        (Get-CesoIPPool).Name | Should -Be @('lab', 'lab6')
        (Get-CesoIPPool -Name 'lab*').Count | Should -Be 2
        (Get-CesoIPPool lab6).Size | Should -Be 16
        { Get-CesoIPPool nope -ErrorAction Stop } | Should -Throw -ErrorId 'IPPoolNotFound,Ceso.PowerShell.Commands.GetCesoIPPoolCommand'
    }

    It 'shows a table with Used and Free' {
        $text = Get-CesoIPPool lab | Out-String
        $text | Should -Match 'Name\s+Subnet\s+Ranges\s+Gateway\s+Size\s+Used\s+Free'
        $text | Should -Match 'lab\s+10\.0\.0\.0/24\s+10\.0\.0\.50-10\.0\.0\.99\s+50\s+0\s+50'
    }

    It 'completes pool names' {
        $line = 'New-CesoVm x -Template y -IPPool la'
        $c = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $c.CompletionMatches.CompletionText | Should -Be @('lab', 'lab6')
    }
}
