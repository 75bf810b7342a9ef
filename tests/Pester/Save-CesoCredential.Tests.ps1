#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    # The encrypted file store under a throw-away CESO_HOME; no test bed.
    $script:Old = @{ Home = $env:CESO_HOME; Store = $env:CESO_CREDENTIAL_STORE; Pass = $env:CESO_CREDENTIAL_PASSPHRASE }
    $env:CESO_HOME = Join-Path ([IO.Path]::GetTempPath()) ('ceso-pester-' + [guid]::NewGuid().ToString('N'))
    $env:CESO_CREDENTIAL_STORE = 'file'
    $env:CESO_CREDENTIAL_PASSPHRASE = 'pester passphrase 4 the store'
    $script:Secret = 'Zq8-SaveCanary-31415'
    $script:Cred = [pscredential]::new('root', (ConvertTo-SecureString $script:Secret -AsPlainText -Force))
    $script:File = Join-Path $env:CESO_HOME 'credentials.json'
}
AfterAll {
    Remove-Item Env:CESO_AGENT -ErrorAction SilentlyContinue
    Remove-Item -Recurse -Force $env:CESO_HOME -ErrorAction SilentlyContinue
    $env:CESO_HOME = $script:Old.Home; $env:CESO_CREDENTIAL_STORE = $script:Old.Store; $env:CESO_CREDENTIAL_PASSPHRASE = $script:Old.Pass
}

Describe 'Save-CesoCredential' {
    It 'saves a credential that Get-CesoCredential lists, with -PassThru writing its metadata and no secret' {
        $saved = Save-CesoCredential -Name esx01 -Credential $script:Cred -Confirm:$false -PassThru

        $saved.Name | Should -Be 'esx01'
        $saved.Kind | Should -Be 'Credential'
        $saved.UserName | Should -Be 'root'
        $saved.Store | Should -Be 'file'
        $saved.PSObject.Properties.Name | Should -Not -Contain 'Password'
        (Get-CesoCredential esx01).UserName | Should -Be 'root'
        Get-Content -Raw $script:File | Should -Not -Match $script:Secret
        ($saved | ConvertTo-Json) | Should -Not -Match $script:Secret
    }

    It 'writes nothing without -PassThru, and saves a password alone as kind Password' {
        Save-CesoCredential -Name repository:nas -Password (ConvertTo-SecureString 'repo-Pw-27182' -AsPlainText -Force) -Confirm:$false | Should -BeNullOrEmpty

        (Get-CesoCredential repository:nas).Kind | Should -Be 'Password'
        (Get-CesoCredential repository:nas).UserName | Should -BeNullOrEmpty
    }

    It 'creates the file with mode 0600' -Skip:$IsWindows {
        [IO.File]::GetUnixFileMode($script:File) | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite')
    }

    It '-WhatIf shows the save without the secret and saves nothing' {
        $env:CESO_TEST_SECRET = $script:Secret
        try { $out = Invoke-CesoChildPwsh 'Save-CesoCredential -Name esx09 -Credential ([pscredential]::new("root", (ConvertTo-SecureString $env:CESO_TEST_SECRET -AsPlainText -Force))) -WhatIf' }
        finally { Remove-Item Env:CESO_TEST_SECRET }

        $out | Should -Match "save credential 'esx09' \(user 'root'\) in the file credential store"
        $out | Should -Not -Match $script:Secret
        Get-CesoCredential esx09 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'records the save in the audit log without the secret' {
        $records = @(Get-CesoAuditLog | Where-Object Operation -eq 'SaveCredential')
        $records.Count | Should -BeGreaterOrEqual 2
        Get-Content -Raw (Join-Path $env:CESO_HOME 'audit' 'audit.jsonl') | Should -Not -Match $script:Secret
    }

    It 'refuses an agent session with AgentRestricted and saves nothing' {
        $env:CESO_AGENT = 'pester-agent'
        try { $err = @(Save-CesoCredential -Name agent-saved -Credential $script:Cred -Confirm:$false -ErrorAction Continue 2>&1 | Where-Object { $_ -is [Management.Automation.ErrorRecord] }) }
        finally { Remove-Item Env:CESO_AGENT }

        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AgentRestricted,*'
        Get-CesoCredential agent-saved -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'refuses a name with a space with CredentialNameInvalid' {
        { Save-CesoCredential -Name 'bad name' -Credential $script:Cred -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'CredentialNameInvalid,Ceso.PowerShell.Commands.SaveCesoCredentialCommand'
    }

    It 'is CredentialStoreLocked without a passphrase and CredentialPassphraseWrong with another one, naming the variable' {
        $keep = $env:CESO_CREDENTIAL_PASSPHRASE
        try {
            Remove-Item Env:CESO_CREDENTIAL_PASSPHRASE
            $locked = { Save-CesoCredential -Name esx02 -Credential $script:Cred -Confirm:$false -ErrorAction Stop } | Should -Throw -PassThru
            $env:CESO_CREDENTIAL_PASSPHRASE = 'a different passphrase'
            $wrong = { Save-CesoCredential -Name esx02 -Credential $script:Cred -Confirm:$false -ErrorAction Stop } | Should -Throw -PassThru
        }
        finally { $env:CESO_CREDENTIAL_PASSPHRASE = $keep }

        $locked.FullyQualifiedErrorId | Should -BeLike 'CredentialStoreLocked,*'
        $locked.Exception.Message | Should -Match 'CESO_CREDENTIAL_PASSPHRASE'
        $wrong.FullyQualifiedErrorId | Should -BeLike 'CredentialPassphraseWrong,*'
        $wrong.CategoryInfo.Category | Should -Be 'SecurityError'
    }

    It 'refuses an unknown store with CredentialStoreUnknown: no plaintext fallback' {
        $env:CESO_CREDENTIAL_STORE = 'plaintext'
        try { { Save-CesoCredential -Name esx03 -Credential $script:Cred -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'CredentialStoreUnknown,Ceso.PowerShell.Commands.SaveCesoCredentialCommand' }
        finally { $env:CESO_CREDENTIAL_STORE = 'file' }
    }
}
