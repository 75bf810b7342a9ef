#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Old = @{ Home = $env:CESO_HOME; Store = $env:CESO_CREDENTIAL_STORE; Pass = $env:CESO_CREDENTIAL_PASSPHRASE }
    $env:CESO_HOME = Join-Path ([IO.Path]::GetTempPath()) ('ceso-pester-' + [guid]::NewGuid().ToString('N'))
    $env:CESO_CREDENTIAL_STORE = 'file'
    $env:CESO_CREDENTIAL_PASSPHRASE = 'pester passphrase 4 the store'
    $script:Secret = 'Zq8-GetCanary-16180'
}
AfterAll {
    Remove-Item -Recurse -Force $env:CESO_HOME -ErrorAction SilentlyContinue
    $env:CESO_HOME = $script:Old.Home; $env:CESO_CREDENTIAL_STORE = $script:Old.Store; $env:CESO_CREDENTIAL_PASSPHRASE = $script:Old.Pass
}

Describe 'Get-CesoCredential' {
    It 'writes nothing when nothing was saved' {
        Get-CesoCredential | Should -BeNullOrEmpty
    }

    It 'lists entries by name, filters with wildcards, and an exact name that is not saved is CredentialNotFound' {
        $pw = ConvertTo-SecureString $script:Secret -AsPlainText -Force
        Save-CesoCredential lab-b ([pscredential]::new('root', $pw)) -Confirm:$false
        Save-CesoCredential lab-a ([pscredential]::new('admin', $pw)) -Confirm:$false
        Save-CesoCredential repository:nas -Password $pw -Confirm:$false

        (Get-CesoCredential).Name | Should -Be @('lab-a', 'lab-b', 'repository:nas')
        (Get-CesoCredential 'lab-*').UserName | Should -Be @('admin', 'root')
        { Get-CesoCredential nothing-here -ErrorAction Stop } | Should -Throw -ErrorId 'CredentialNotFound,Ceso.PowerShell.Commands.GetCesoCredentialCommand'
    }

    It 'lists without the passphrase (names are not secret), and never shows a secret' {
        $keep = $env:CESO_CREDENTIAL_PASSPHRASE
        try { Remove-Item Env:CESO_CREDENTIAL_PASSPHRASE; $listed = Get-CesoCredential }
        finally { $env:CESO_CREDENTIAL_PASSPHRASE = $keep }

        $listed | Should -HaveCount 3
        ($listed | Format-List * | Out-String) + ($listed | ConvertTo-Json) | Should -Not -Match $script:Secret
    }

    It 'reads well as a table, as a list and as JSON' {
        $table = Get-CesoCredential | Format-Table | Out-String
        $table | Should -Match 'Name\s+Kind\s+UserName\s+Store\s+SavedAt'
        $table | Should -Match 'lab-a\s+Credential\s+admin\s+file\s+\d{4}-\d\d-\d\d \d\d:\d\dZ'
        Get-CesoCredential lab-a | Format-List | Out-String | Should -Match 'Store\s+: file'
        (Get-CesoCredential repository:nas | ConvertTo-Json | ConvertFrom-Json).Kind | Should -Be 'Password'
    }

    It 'works in an agent session (it only reads)' {
        $env:CESO_AGENT = 'pester-agent'
        try { (Get-CesoCredential lab-a).Name | Should -Be 'lab-a' } finally { Remove-Item Env:CESO_AGENT }
    }
}
