#Requires -Modules Pester
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    . (Join-Path $PSScriptRoot 'FakeSecretManagement.ps1')
    Import-CesoBuiltModule
    # No host is involved: a throw-away CESO_HOME is enough.
    $script:SavedHome = $env:CESO_HOME
    $script:SavedPassword = $env:CESO_REPOSITORY_PASSWORD
    $env:CESO_HOME = Join-Path ([IO.Path]::GetTempPath()) ('ceso-pester-' + [guid]::NewGuid().ToString('N'))
    $env:CESO_REPOSITORY_PASSWORD = $null
    $script:Secret = ConvertTo-SecureString 'pester-new-repo-secret' -AsPlainText -Force
    $script:Config = Join-Path $env:CESO_HOME 'config.yaml'
}
AfterAll {
    Remove-Item -Recurse -Force $env:CESO_HOME -ErrorAction SilentlyContinue
    $env:CESO_HOME = $script:SavedHome
    $env:CESO_REPOSITORY_PASSWORD = $script:SavedPassword
}

Describe 'New-CesoBackupRepository' {
    It 'creates nothing and registers nothing under -WhatIf' {
        $path = Join-Path $env:CESO_HOME 'whatif'
        New-CesoBackupRepository -Name whatif -Path $path -Password $script:Secret -WhatIf | Should -BeNullOrEmpty
        Test-Path $path | Should -BeFalse
        if (Test-Path $script:Config) { Get-Content -Raw $script:Config | Should -Not -Match 'whatif' }
    }

    It 'creates an encrypted repository and registers it by name' {
        $path = Join-Path $env:CESO_HOME 'nas'
        $repo = New-CesoBackupRepository -Name nas -Path $path -Password $script:Secret -Description 'pester nas' -Confirm:$false
        $repo.Name | Should -Be 'nas'
        $repo.Location | Should -Be $path
        $repo.Encrypted | Should -BeTrue
        $repo.BlockSize | Should -Be 1MB
        $repo.Backups | Should -Be 0
        Test-Path (Join-Path $path 'config') | Should -BeTrue
        Get-Content -Raw $script:Config | Should -Match 'nas:'
        Get-Content -Raw $script:Config | Should -Not -Match 'pester-new-repo-secret'
        Get-CesoBackup -Repository nas -Password $script:Secret | Should -BeNullOrEmpty
    }

    It 'takes the password from CESO_REPOSITORY_PASSWORD' {
        try {
            $env:CESO_REPOSITORY_PASSWORD = 'from-the-environment'
            $repo = New-CesoBackupRepository -Name envpw -Path (Join-Path $env:CESO_HOME 'envpw') -BlockSize 4MB -Confirm:$false
            $repo.Encrypted | Should -BeTrue
            $repo.BlockSize | Should -Be 4MB
            { Get-CesoBackup -Repository envpw -Password $script:Secret -ErrorAction Stop } |
                Should -Throw -ErrorId 'RepositoryPasswordWrong,Ceso.PowerShell.Commands.GetCesoBackupCommand'
        } finally { $env:CESO_REPOSITORY_PASSWORD = $null }
    }

    It 'creates an unencrypted repository with -NoEncryption' {
        (New-CesoBackupRepository -Name plain -Path (Join-Path $env:CESO_HOME 'plain') -NoEncryption -Confirm:$false).Encrypted | Should -BeFalse
        Get-CesoBackup -Repository plain | Should -BeNullOrEmpty
    }

    It 'fails with RepositoryPasswordRequired without -Password, CESO_REPOSITORY_PASSWORD or -NoEncryption, and creates nothing' {
        $path = Join-Path $env:CESO_HOME 'nopw'
        { New-CesoBackupRepository -Name nopw -Path $path -ErrorAction Stop } |
            Should -Throw -ErrorId 'RepositoryPasswordRequired,Ceso.PowerShell.Commands.NewCesoBackupRepositoryCommand'
        Test-Path $path | Should -BeFalse
    }

    Context '-PasswordSecretName (PowerShell SecretManagement, here a fake module of that name)' {
        BeforeAll {
            $script:FakeRoot = New-FakeSecretManagement
            $script:OldModulePath = Enable-FakeSecretManagement $script:FakeRoot
            Set-Secret -Name repo-pw -Secret 'pester-new-repo-secret'
            Set-Secret -Name a-credential -Secret ([pscredential]::new('u', $script:Secret))
        }
        AfterAll {
            Disable-FakeSecretManagement $script:OldModulePath
            Remove-Item -Recurse -Force $script:FakeRoot
        }

        It 'creates the repository with the secret as its password, which -Password then opens' {
            $repo = New-CesoBackupRepository -Name vaulted -Path (Join-Path $env:CESO_HOME 'vaulted') -PasswordSecretName repo-pw -Confirm:$false
            $repo.Encrypted | Should -BeTrue
            Get-CesoBackup -Repository vaulted -Password $script:Secret | Should -BeNullOrEmpty
            Get-CesoBackup -Repository vaulted -PasswordSecretName repo-pw | Should -BeNullOrEmpty
        }

        It 'refuses -PasswordSecretName with -Password or -NoEncryption (PasswordAmbiguous), a PSCredential secret (SecretWrongType), and -Vault alone' {
            $path = Join-Path $env:CESO_HOME 'ambiguous'
            { New-CesoBackupRepository -Name ambiguous -Path $path -PasswordSecretName repo-pw -Password $script:Secret -ErrorAction Stop } |
                Should -Throw -ErrorId 'PasswordAmbiguous,Ceso.PowerShell.Commands.NewCesoBackupRepositoryCommand'
            { New-CesoBackupRepository -Name ambiguous -Path $path -PasswordSecretName repo-pw -NoEncryption -ErrorAction Stop } |
                Should -Throw -ErrorId 'PasswordAmbiguous,Ceso.PowerShell.Commands.NewCesoBackupRepositoryCommand'
            { New-CesoBackupRepository -Name ambiguous -Path $path -PasswordSecretName a-credential -ErrorAction Stop } |
                Should -Throw -ErrorId 'SecretWrongType,Ceso.PowerShell.Commands.NewCesoBackupRepositoryCommand'
            { New-CesoBackupRepository -Name ambiguous -Path $path -Password $script:Secret -Vault FakeVault -ErrorAction Stop } |
                Should -Throw -ErrorId 'VaultWithoutSecretName,Ceso.PowerShell.Commands.NewCesoBackupRepositoryCommand'
            Test-Path $path | Should -BeFalse
        }
    }

    It 'fails with RepositoryNameExists for a registered name' {
        { New-CesoBackupRepository -Name nas -Path (Join-Path $env:CESO_HOME 'nas2') -NoEncryption -ErrorAction Stop } |
            Should -Throw -ErrorId 'RepositoryNameExists,Ceso.PowerShell.Commands.NewCesoBackupRepositoryCommand'
        Test-Path (Join-Path $env:CESO_HOME 'nas2') | Should -BeFalse
    }

    It 'fails with RepositoryPathNotEmpty for a directory that holds files' {
        $path = Join-Path $env:CESO_HOME 'full'
        $null = New-Item -ItemType Directory $path
        Set-Content (Join-Path $path 'keep.txt') 'mine'
        { New-CesoBackupRepository -Name full -Path $path -NoEncryption -ErrorAction Stop } |
            Should -Throw -ErrorId 'RepositoryPathNotEmpty,Ceso.PowerShell.Commands.NewCesoBackupRepositoryCommand'
        Get-ChildItem $path | Should -HaveCount 1
    }

    It 'makes the registered names complete for -Repository' {
        $completions = (TabExpansion2 -inputScript 'Get-CesoBackup -Repository pl' -cursorColumn 29).CompletionMatches
        $completions.CompletionText | Should -Be @('plain')
        (TabExpansion2 -inputScript 'Backup-CesoVm x -Repository ' -cursorColumn 28).CompletionMatches.CompletionText | Should -Contain 'nas'
    }

    It 'reads well as a table' {
        Get-Content -Raw $script:Config | Should -Match 'plain'
        $table = New-CesoBackupRepository -Name shown -Path (Join-Path $env:CESO_HOME 'shown') -NoEncryption -Description 'a view' -Confirm:$false | Format-Table | Out-String -Width 250
        $table | Should -Match 'Name\s+Backups\s+StoredGB\s+Encrypted\s+BlockSize\s+Description\s+Location'
        $table | Should -Match 'shown\s+0\s+0\s+False\s+1048576\s+a view'
    }
}
