#Requires -Modules Pester
# The secrets corpus: distinctive secrets (the test bed's API password, a repository password, the credential store's
# passphrase, a wrong password) go through connects, a saved credential, SecretManagement secrets (-SecretName,
# -PasswordSecretName, through a fake module of that name), a backup, -WhatIf runs, a failing login, -Verbose and -Debug; none may appear in the audit log, error records, -WhatIf text, verbose/debug output, any
# process's arguments, or any file under $CESO_HOME but the encrypted store.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestBed.ps1')
    . (Join-Path $PSScriptRoot 'FakeSecretManagement.ps1')
    Import-CesoBuiltModule
    $script:Old = @{ Store = $env:CESO_CREDENTIAL_STORE; Pass = $env:CESO_CREDENTIAL_PASSPHRASE }

    function Get-ProcArguments {
        # pid -> arguments of every process we may read.
        $all = @{}
        foreach ($d in [IO.Directory]::GetDirectories('/proc')) {
            $name = [IO.Path]::GetFileName($d)
            if ($name -notmatch '^\d+$') { continue }
            try { $all[[int]$name] = [IO.File]::ReadAllText("$d/cmdline").Replace([char]0, ' ') } catch { }
        }
        $all
    }

    function Find-Secret([string] $Text) {
        # The secrets (and their base64 forms) that occur in $Text.
        @($script:Secrets | Where-Object { $Text.Contains($_) -or $Text.Contains([Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($_))) })
    }

    function Start-ArgvWatch {
        # A background runspace that reads /proc/*/cmdline in a loop until stopped, collecting any process whose
        # arguments hold a secret (besides those that held one before Ceso ran: the test bed's own).
        $state = [hashtable]::Synchronized(@{ Stop = $false; Scans = 0 })
        $state.Hits = [Collections.ArrayList]::Synchronized([Collections.ArrayList]::new())
        $state.Seen = [Collections.ArrayList]::Synchronized([Collections.ArrayList]::new())
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
            param($state, [string[]] $secrets, [int[]] $ignore)
            $forms = @($secrets) + @($secrets | ForEach-Object { [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($_)) })
            while (-not $state.Stop) {
                foreach ($d in [IO.Directory]::GetDirectories('/proc')) {
                    $name = [IO.Path]::GetFileName($d)
                    if ($name -notmatch '^\d+$' -or $ignore -contains [int]$name) { continue }
                    try { $cmd = [IO.File]::ReadAllText("$d/cmdline").Replace([char]0, ' ') } catch { continue }
                    if ($cmd -match '\bssh\b|pwsh') { [void]$state.Seen.Add($cmd) }
                    foreach ($s in $forms) { if ($cmd.Contains($s)) { [void]$state.Hits.Add("pid $name`: $cmd") } }
                    if ($cmd.Contains('Corpus-Control-Canary')) { $state.Control = $true }
                }
                $state.Scans++
            }
        }).AddArgument($state).AddArgument([string[]]$script:Secrets).AddArgument([int[]]$script:IgnorePids)
        $state.PowerShell = $ps
        $state.Handle = $ps.BeginInvoke()
        $state
    }

    function Stop-ArgvWatch($State) {
        $State.Stop = $true
        $null = $State.PowerShell.EndInvoke($State.Handle)
        $State.PowerShell.Dispose()
    }

    function Get-Text($Records) {
        # Everything a record shows: messages, ToString, error details, exceptions with their inner ones.
        ($Records | ForEach-Object {
            if ($_ -is [Management.Automation.ErrorRecord]) {
                $_.ToString(); $_.Exception.Message; $_.Exception.ToString(); $_.ErrorDetails.Message; $_.FullyQualifiedErrorId; "$($_.TargetObject)"
            } elseif ($_ -is [Management.Automation.InformationRecord]) { "$($_.MessageData)" }
            elseif ($_.PSObject.Properties['Message']) { $_.Message }
            else { $_ | Out-String }
        }) -join "`n"
    }

    $script:Bed = Start-CesoTestBed -VmCount 2
    $env:CESO_CREDENTIAL_STORE = 'file'
    $env:CESO_CREDENTIAL_PASSPHRASE = 'Corpus-Passphrase-5c1e77d0'
    $script:ApiPassword = $script:Bed.Info.password
    $script:RepoPassword = 'Corpus-RepoPw-9a41c3ef'
    $script:WrongPassword = 'Corpus-WrongPw-77e1d0aa'
    $script:Secrets = @($script:ApiPassword, $script:RepoPassword, $env:CESO_CREDENTIAL_PASSPHRASE, $script:WrongPassword)
    # Processes that hold a secret before Ceso ran anything (the test bed passes its own password on): not Ceso's.
    $script:IgnorePids = @((Get-ProcArguments).GetEnumerator() | Where-Object { Find-Secret $_.Value } | ForEach-Object Key)
    $i = $script:Bed.Info
    $script:Ssh = @{ SshUser = $i.sshUser; SshPort = $i.sshPort; SshKeyPath = $i.sshKey; KnownHostsPath = $i.knownHosts; SshConfigFile = 'none'; Port = $i.soapPort; WarningAction = 'SilentlyContinue' }
    $script:Wrong = [pscredential]::new('root', (ConvertTo-SecureString $script:WrongPassword -AsPlainText -Force))
    $script:Shown = [Collections.Generic.List[string]]::new() # everything any stream showed, checked at the end
    $script:Watch = Start-ArgvWatch
}
AfterAll {
    if ($script:Watch -and -not $script:Watch.Stop) { Stop-ArgvWatch $script:Watch }
    Stop-CesoTestBed $script:Bed
    $env:CESO_CREDENTIAL_STORE = $script:Old.Store; $env:CESO_CREDENTIAL_PASSPHRASE = $script:Old.Pass
}

Describe 'Secrets never leak' {
    It 'saves the API credential only after a successful login with -SaveCredential' {
        $bad = @(Connect-CesoServer $script:Bed.Info.soapHost -Credential $script:Wrong -SaveCredential -CredentialName corpus-esx @script:Ssh -Verbose -Debug -ErrorAction Continue *>&1)
        $good = @(Connect-CesoServer $script:Bed.Info.soapHost -Credential (Get-CesoTestBedCredential $script:Bed) -SaveCredential -CredentialName corpus-esx @script:Ssh -Verbose -Debug -ErrorAction Continue *>&1)
        $script:Shown.Add((Get-Text $bad)); $script:Shown.Add((Get-Text $good))

        @($bad | Where-Object { $_ -is [Management.Automation.ErrorRecord] })[0].FullyQualifiedErrorId | Should -BeLike 'VimInvalidLogin,*'
        (Get-CesoCredential corpus-esx).UserName | Should -Be 'root'
        Get-CesoAuditLog | Where-Object Operation -eq 'SaveCredential' | Should -HaveCount 1
    }

    It 'connects with -CredentialName from the store, and an unknown name is CredentialNotFound' {
        Get-CesoServer | Disconnect-CesoServer -Confirm:$false
        $out = @(Connect-CesoServer $script:Bed.Info.soapHost -CredentialName corpus-esx @script:Ssh -Verbose -Debug -ErrorAction Continue *>&1)
        $script:Shown.Add((Get-Text $out))
        $missing = @(Connect-CesoServer $script:Bed.Info.soapHost -CredentialName no-such-entry @script:Ssh -ErrorAction Continue *>&1)
        $script:Shown.Add((Get-Text $missing))

        (Get-CesoServer).SoapConnected | Should -Contain $true
        (Get-CesoVm).Count | Should -Be 2
        $missing[0].FullyQualifiedErrorId | Should -BeLike 'CredentialNotFound,*'
    }

    It 'backs up with the repository password saved by New-CesoBackupRepository -SavePassword (no -Password, no variable)' {
        Remove-Item Env:CESO_REPOSITORY_PASSWORD -ErrorAction SilentlyContinue
        $repo = Join-Path $script:Bed.CesoHome 'repo-corpus'
        $made = @(New-CesoBackupRepository corpus $repo -Password (ConvertTo-SecureString $script:RepoPassword -AsPlainText -Force) -SavePassword -Confirm:$false -Verbose -Debug -ErrorAction Continue *>&1)
        $backup = @(Backup-CesoVm vm01 -Repository corpus -Confirm:$false -Verbose -Debug -ErrorAction Continue *>&1)
        $listed = @(Get-CesoBackup -Repository corpus -Verbose -ErrorAction Continue *>&1)
        $script:Shown.Add((Get-Text $made)); $script:Shown.Add((Get-Text $backup)); $script:Shown.Add((Get-Text $listed))

        (Get-CesoCredential repository:corpus).Kind | Should -Be 'Password'
        @($listed | Where-Object { $_.PSObject.TypeNames -contains 'Ceso.Engine.Model.CesoBackup' -or $_.GetType().Name -eq 'CesoBackup' }).Count | Should -Be 1
        (Get-Text $backup) | Should -Match "comes from the file credential store \(entry 'repository:corpus'\)"
    }

    It 'connects with -SecretName and reads a repository with -PasswordSecretName (SecretManagement), a failing login or a missing secret without any secret' {
        $root = New-FakeSecretManagement
        $old = Enable-FakeSecretManagement $root
        try {
            Set-Secret -Name corpus-api -Secret (Get-CesoTestBedCredential $script:Bed)
            Set-Secret -Name corpus-wrong -Secret $script:Wrong
            Set-Secret -Name corpus-repo -Secret $script:RepoPassword
            Get-CesoServer | Disconnect-CesoServer -Confirm:$false
            $out = @(Connect-CesoServer $script:Bed.Info.soapHost -SecretName corpus-api @script:Ssh -Verbose -Debug -ErrorAction Continue *>&1)
            $listed = @(Get-CesoBackup -Repository corpus -PasswordSecretName corpus-repo -Verbose -Debug -ErrorAction Continue *>&1)
            $login = @(Connect-CesoServer $script:Bed.Info.soapHost -SecretName corpus-wrong -Port $script:Bed.Info.soapPort -Transport Soap -Verbose -Debug -WarningAction SilentlyContinue -ErrorAction Continue *>&1)
            # A secret that cannot be read ends the backup cmdlet (every input would fail the same way).
            $missing = try { @(Get-CesoBackup -Repository corpus -PasswordSecretName no-such-secret -Verbose -ErrorAction Continue *>&1) } catch { @($_) }
        }
        finally {
            Disable-FakeSecretManagement $old
            Remove-Item -Recurse -Force $root
        }
        foreach ($r in $out, $listed, $login, $missing) { $script:Shown.Add((Get-Text $r)) }

        (Get-CesoServer | Where-Object IsDefault).SoapConnected | Should -BeTrue
        @($out | Where-Object { $_ -is [Management.Automation.ErrorRecord] }) | Should -BeNullOrEmpty
        (Get-Text $out) | Should -Match "comes from the SecretManagement secret 'corpus-api'"
        @($listed | Where-Object { $_.GetType().Name -eq 'CesoBackup' }).Count | Should -Be 1
        (Get-Text $listed) | Should -Match "comes from the SecretManagement secret 'corpus-repo'"
        @($login | Where-Object { $_ -is [Management.Automation.ErrorRecord] })[0].FullyQualifiedErrorId | Should -BeLike 'VimInvalidLogin,*'
        @($missing | Where-Object { $_ -is [Management.Automation.ErrorRecord] })[0].FullyQualifiedErrorId | Should -BeLike 'SecretNotFound,*'
        Find-Secret (($out + $listed + $login + $missing | ForEach-Object { Get-Text $_ }) -join "`n") | Should -BeNullOrEmpty
    }

    It 'a wrong repository password and a failing login give errors without any secret' {
        $wrongRepo = @(Get-CesoBackup -Repository corpus -Password $script:Wrong.Password -ErrorAction Continue *>&1)
        $login = @(Connect-CesoServer $script:Bed.Info.soapHost -Credential $script:Wrong -Port $script:Bed.Info.soapPort -Verbose -Debug -WarningAction SilentlyContinue -ErrorAction Continue *>&1)
        $script:Shown.Add((Get-Text $wrongRepo)); $script:Shown.Add((Get-Text $login))

        @($wrongRepo | Where-Object { $_ -is [Management.Automation.ErrorRecord] }).Count | Should -BeGreaterThan 0
        @($login | Where-Object { $_ -is [Management.Automation.ErrorRecord] }).Count | Should -BeGreaterThan 0
        Find-Secret ((Get-Text $wrongRepo) + (Get-Text $login)) | Should -BeNullOrEmpty
        Find-Secret (($Error | ForEach-Object { $_.ToString(); $_.Exception.ToString() }) -join "`n") | Should -BeNullOrEmpty
    }

    It '-WhatIf runs (their console text, in a child pwsh) show no secret' {
        $i = $script:Bed.Info
        $env:CESO_TEST_REPO = $script:RepoPassword
        $env:CESO_TEST_BED = @{ soapHost = $i.soapHost; soapPort = $i.soapPort; sshUser = $i.sshUser; sshPort = $i.sshPort; sshKey = $i.sshKey; knownHosts = $i.knownHosts } | ConvertTo-Json -Compress
        try {
            $out = Invoke-CesoChildPwsh @'
$PSStyle.OutputRendering = 'PlainText'
$b = $env:CESO_TEST_BED | ConvertFrom-Json
$null = Connect-CesoServer $b.soapHost -Port $b.soapPort -CredentialName corpus-esx -SshUser $b.sshUser -SshPort $b.sshPort -SshKeyPath $b.sshKey -KnownHostsPath $b.knownHosts -SshConfigFile none -WarningAction SilentlyContinue
Backup-CesoVm vm01 -Repository corpus -WhatIf -Verbose -Debug -ErrorAction Continue *>&1 | Out-String
Copy-CesoVm vm01 -Name corpus-copy -WhatIf -Verbose *>&1 | Out-String
Save-CesoCredential -Name corpus-esx2 -Password (ConvertTo-SecureString $env:CESO_TEST_REPO -AsPlainText -Force) -WhatIf *>&1 | Out-String
Get-CesoCredential | Format-List * | Out-String
Remove-CesoCredential corpus-esx -WhatIf
'Done-Child'
'@
        }
        finally { Remove-Item Env:CESO_TEST_BED, Env:CESO_TEST_REPO }
        $script:Shown.Add($out)

        $out | Should -Match 'What if: Performing the operation'
        $out | Should -Match "What if: plan sha256:[0-9a-f]{64} \(BackupVm of 'vm01'"
        $out | Should -Match "save password 'corpus-esx2' in the file credential store"
        $out | Should -Match 'Done-Child'
        Find-Secret $out | Should -BeNullOrEmpty
    }

    It 'no process ever had a secret in its arguments while Ceso ran (/proc/*/cmdline, polled in a background runspace)' {
        # A positive control: a process with a canary in its arguments is seen by the watcher.
        & sh -c 'sleep 1' Corpus-Control-Canary
        Stop-ArgvWatch $script:Watch

        $script:Watch.Control | Should -BeTrue

        $script:Watch.Scans | Should -BeGreaterThan 5
        @($script:Watch.Seen | Where-Object { $_ -match '\bssh\b' }).Count | Should -BeGreaterThan 0 # it saw Ceso's ssh processes
        @($script:Watch.Hits) | Should -BeNullOrEmpty
    }

    It 'nothing any stream showed holds a secret (verbose, debug, warnings, errors, output)' {
        Find-Secret ($script:Shown -join "`n") | Should -BeNullOrEmpty
    }

    It 'no file under CESO_HOME but the encrypted store holds a secret: audit log, name cache, config, catalog, repository' {
        $files = @(Get-ChildItem -Recurse -File -Force $script:Bed.CesoHome | Where-Object Name -ne 'credentials.json')
        $files.Name | Should -Contain 'audit.jsonl'
        $leaks = foreach ($f in $files) {
            $text = [Text.Encoding]::UTF8.GetString([IO.File]::ReadAllBytes($f.FullName))
            if (Find-Secret $text) { $f.FullName }
        }
        $leaks | Should -BeNullOrEmpty
        Get-Content -Raw (Join-Path $script:Bed.CesoHome 'audit' 'audit.jsonl') | Should -Match 'SaveCredential'
        Find-Secret (Get-Content -Raw (Join-Path $script:Bed.CesoHome 'credentials.json')) | Should -BeNullOrEmpty # sealed, not merely stored
    }
}
