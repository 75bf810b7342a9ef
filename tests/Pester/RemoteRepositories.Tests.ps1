#Requires -Modules Pester
# The backup cmdlets over SFTP (the test bed's own datastore) and S3 (a private Swift), as a user runs them.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    Import-CesoBuiltModule
    $script:Bed = Start-CesoTestBed -VmCount 2
    $script:Swift = Start-CesoTestSwift
    $env:CESO_REPOSITORY_PASSWORD = 'pester-remote-horse'
    $null = Connect-CesoTestBed $script:Bed -Transport Ssh
    $i = $script:Bed.Info
    $script:SftpUrl = "sftp://$($i.sshUser)@127.0.0.1:$($i.sshPort)/vmfs/volumes/$($i.datastores[0].name)/ceso-pester-repo"
    $script:S3Url = "s3:$($script:Swift.Endpoint)/ceso-pester/site1"
}
AfterAll {
    Stop-CesoTestSwift $script:Swift
    Stop-CesoTestBed $script:Bed
}

Describe 'Remote backup repositories' {
    It 'creates an SFTP repository on a datastore and registers its key and known_hosts with it' {
        $i = $script:Bed.Info
        $repo = New-CesoBackupRepository -Name esx-ds $script:SftpUrl -SshKeyPath $i.sshKey -KnownHostsPath $i.knownHosts -Confirm:$false
        $repo.Location | Should -Be $script:SftpUrl.Replace(":$($i.sshPort)", ":$($i.sshPort)")
        $config = Get-Content -Raw (Join-Path $env:CESO_HOME 'config.yaml')
        $config | Should -Match 'identity-file'
        $config | Should -Match 'known-hosts-file'
        Test-Path (Join-Path $i.datastores[0].localDir 'ceso-pester-repo' 'config') | Should -BeTrue
    }

    It 'creates an S3 repository (and its bucket) with -Credential, and keeps no secret in config.yaml' {
        $repo = New-CesoBackupRepository -Name offsite $script:S3Url -Credential $script:Swift.Credential -Confirm:$false
        $repo.Name | Should -Be 'offsite'
        Get-Content -Raw (Join-Path $env:CESO_HOME 'config.yaml') | Should -Not -Match ([regex]::Escape($script:Swift.Secret))
    }

    It 'refuses a malformed location with RepositoryLocationInvalid and creates nothing' {
        { New-CesoBackupRepository -Name bad 'sftp://root:pw@host/x' -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'RepositoryLocationInvalid,Ceso.PowerShell.Commands.NewCesoBackupRepositoryCommand'
        Get-Content -Raw (Join-Path $env:CESO_HOME 'config.yaml') | Should -Not -Match 'bad:'
    }

    It 'says RepositoryCredentialsMissing for S3 without credentials' {
        $saved = $env:AWS_ACCESS_KEY_ID, $env:AWS_SECRET_ACCESS_KEY, $env:AWS_PROFILE, $env:AWS_SHARED_CREDENTIALS_FILE
        $env:AWS_ACCESS_KEY_ID = $null; $env:AWS_SECRET_ACCESS_KEY = $null; $env:AWS_PROFILE = $null
        $env:AWS_SHARED_CREDENTIALS_FILE = Join-Path $env:CESO_HOME 'no-such-credentials'
        try {
            { Get-CesoBackup -Repository offsite -ErrorAction Stop } | Should -Throw -ErrorId 'RepositoryCredentialsMissing,Ceso.PowerShell.Commands.GetCesoBackupCommand'
        } finally {
            $env:AWS_ACCESS_KEY_ID, $env:AWS_SECRET_ACCESS_KEY, $env:AWS_PROFILE, $env:AWS_SHARED_CREDENTIALS_FILE = $saved
        }
    }

    It 'backs up to both, lists the backups and passes Test-CesoBackup -ReadData on each; the secret shows nowhere' {
        $sftp = Get-CesoVm vm01 | Backup-CesoVm -Repository esx-ds -Tag remote -Confirm:$false
        $s3 = Get-CesoVm vm01 | Backup-CesoVm -Repository offsite -Credential $script:Swift.Credential -Tag remote -Confirm:$false -Verbose 4>&1 |
            ForEach-Object { if ($_ -is [System.Management.Automation.VerboseRecord]) { $_.Message | Should -Not -Match ([regex]::Escape($script:Swift.Secret)) } else { $_ } }
        $sftp.Vm | Should -Be 'vm01'
        $s3.Vm | Should -Be 'vm01'
        (Get-CesoBackup -Repository esx-ds -Tag remote).Id | Should -Be $sftp.Id
        (Get-CesoBackup -Repository offsite -Credential $script:Swift.Credential -Tag remote).Id | Should -Be $s3.Id
        (Test-CesoBackup -Repository esx-ds -ReadData).Ok | Should -BeTrue
        (Test-CesoBackup -Repository offsite -Credential $script:Swift.Credential -ReadData).Ok | Should -BeTrue
        Get-Content -Raw (Join-Path $env:CESO_HOME 'audit' 'audit.jsonl') | Should -Not -Match ([regex]::Escape($script:Swift.Secret))
    }

    It 'restores from S3 by URL after CESO_HOME is deleted, byte for byte' {
        $backup = Get-CesoBackup -Repository offsite -Credential $script:Swift.Credential -Tag remote | Select-Object -Last 1
        Get-CesoServer | Disconnect-CesoServer -Confirm:$false
        Remove-Item -Recurse -Force $env:CESO_HOME
        $null = Connect-CesoTestBed $script:Bed -Transport Ssh
        $vm = Restore-CesoVm $backup.Id -Repository $script:S3Url -Credential $script:Swift.Credential -AsNew vm01-from-s3 -Confirm:$false
        $vm.Name | Should -Be 'vm01-from-s3'
        (Get-FileHash (Get-CesoTestBedFlatDisk $script:Bed vm01-from-s3)).Hash | Should -Be (Get-FileHash (Get-CesoTestBedFlatDisk $script:Bed vm01)).Hash
    }
}
