# Shared by the Pester files (dot-sourced in BeforeAll): imports the built module and starts/stops the cesobed test bed
# (testbed/SPEC.md). Not a test file itself.

$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path
$script:ModulePath = Join-Path $script:RepoRoot 'out' 'Ceso' 'Ceso.psd1'

function Import-CesoBuiltModule {
    if (-not (Test-Path $script:ModulePath)) {
        throw "The module is not packaged: run ./build.ps1 -Task Package first ($script:ModulePath is missing)."
    }
    Import-Module $script:ModulePath -Force -ErrorAction Stop
}

function Enter-CesoTestHome {
    # A throw-away CESO_HOME for tests of local state (pools, grants) that need no test bed; Exit-CesoTestHome
    # removes it and puts the previous one back.
    $script:CesoTestOldHome = $env:CESO_HOME
    $env:CESO_HOME = Join-Path ([IO.Path]::GetTempPath()) ('ceso-pester-' + [guid]::NewGuid().ToString('N'))
}

function Exit-CesoTestHome {
    Remove-Item -Recurse -Force $env:CESO_HOME -ErrorAction SilentlyContinue
    $env:CESO_HOME = $script:CesoTestOldHome
}

function Start-CesoTestBed {
    param([int] $VmCount = 3)
    $bed = Join-Path $script:RepoRoot 'testbed' 'bin' 'cesobed'
    if (-not (Test-Path $bed)) {
        & sh (Join-Path $script:RepoRoot 'testbed' 'build.sh')
        if ($LASTEXITCODE -ne 0) { throw 'testbed/build.sh failed' }
    }
    # Pinned thumbprints and the name cache go to a throw-away CESO_HOME, never the user's ~/.ceso.
    $env:CESO_HOME = Join-Path ([IO.Path]::GetTempPath()) ('ceso-pester-' + [guid]::NewGuid().ToString('N'))
    $psi = [Diagnostics.ProcessStartInfo]::new($bed)
    foreach ($a in 'serve', '-vm', "$VmCount") { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    $process = [Diagnostics.Process]::Start($psi)
    $line = $process.StandardOutput.ReadLine()
    if (-not $line) { throw 'cesobed printed nothing' }
    $info = $line | ConvertFrom-Json
    if ($info.PSObject.Properties['error']) {
        $process.WaitForExit(5000) | Out-Null
        throw "cesobed: $($info.error)"
    }
    [pscustomobject]@{ Process = $process; Info = $info; CesoHome = $env:CESO_HOME }
}

function Stop-CesoTestBed {
    param($TestBed)
    if (-not $TestBed) { return }
    Get-CesoServer -ErrorAction SilentlyContinue | Disconnect-CesoServer -Confirm:$false -ErrorAction SilentlyContinue
    if (-not $TestBed.Process.HasExited) {
        # SIGTERM lets cesobed stop sshd and vcsim and remove its state folder.
        & kill -TERM $TestBed.Process.Id
        if (-not $TestBed.Process.WaitForExit(15000)) { $TestBed.Process.Kill($true) }
    }
    Remove-Item -Recurse -Force $TestBed.CesoHome -ErrorAction SilentlyContinue
    # Every Pester file runs in the same pwsh: a repository password set by one must not reach the next.
    Remove-Item Env:CESO_REPOSITORY_PASSWORD -ErrorAction SilentlyContinue
}

function Get-CesoTestBedCredential {
    param($TestBed)
    [pscredential]::new($TestBed.Info.username, (ConvertTo-SecureString $TestBed.Info.password -AsPlainText -Force))
}

function Connect-CesoTestBed {
    param($TestBed, [string] $Transport = 'Auto', [switch] $NoSsh, [switch] $NoSoap)
    $i = $TestBed.Info
    $p = @{ Server = $i.soapHost; Port = $i.soapPort; Transport = $Transport; WarningAction = 'SilentlyContinue' }
    if (-not $NoSoap) { $p.Credential = Get-CesoTestBedCredential $TestBed }
    if (-not $NoSsh) {
        $p.SshUser = $i.sshUser; $p.SshPort = $i.sshPort; $p.SshKeyPath = $i.sshKey; $p.KnownHostsPath = $i.knownHosts
        $p.SshConfigFile = 'none'
    }
    Connect-CesoServer @p
}

function Get-CesoTestBedWrites {
    # The writes the test bed saw (SOAP write methods, SSH commands marked write), from its call log; -WhatIf must add none.
    param($TestBed)
    if (-not (Test-Path $TestBed.Info.callLog)) { return @() }
    @(Get-Content $TestBed.Info.callLog | ConvertFrom-Json | Where-Object { $_.write -and -not $_.internal })
}

function Invoke-CesoTestBedPrompted {
    # Runs $Script in a fresh pwsh whose console host reads prompt answers (e.g. 'N' at -Confirm) from stdin, connected
    # to the same test bed and CESO_HOME (so the caller reads the same audit log). Returns everything the child printed.
    param($TestBed, [string] $Script, [string[]] $Answers, [string] $Transport = 'Auto')
    $infoFile = Join-Path $TestBed.CesoHome 'bed-info.json'
    $TestBed.Info | ConvertTo-Json | Set-Content $infoFile
    $prelude = @"
. '$(Join-Path $PSScriptRoot 'TestBed.ps1')'
`$env:CESO_HOME = '$($TestBed.CesoHome)'
Import-CesoBuiltModule
`$bed = [pscustomobject]@{ Info = (Get-Content -Raw '$infoFile' | ConvertFrom-Json); CesoHome = '$($TestBed.CesoHome)' }
`$null = Connect-CesoTestBed `$bed -Transport $Transport
"@
    $psi = [Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
    if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
    foreach ($a in '-NoProfile', '-NoLogo', '-Command', '-') { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $p = [Diagnostics.Process]::Start($psi)
    # -Command - reads the script and the answers from the same stdin, line by line: the script as one line per
    # statement, then one answer per prompt.
    $p.StandardInput.WriteLine((($prelude + "`n" + $Script) -split "`r?`n" | Where-Object { $_.Trim() }) -join "`n")
    foreach ($answer in $Answers) { $p.StandardInput.WriteLine($answer) }
    $p.StandardInput.Close()
    $stdout = $p.StandardOutput.ReadToEndAsync()
    $stderr = $p.StandardError.ReadToEndAsync()
    if (-not $p.WaitForExit(120000)) { $p.Kill($true); throw 'the prompted pwsh did not finish in 120 s' }
    $stdout.Result + $stderr.Result
}

function New-CesoTestRepository {
    # A backup repository under the test bed's (throw-away) CESO_HOME, registered as $Name; its password is put in
    # CESO_REPOSITORY_PASSWORD (Stop-CesoTestBed removes it). Returns the repository's directory.
    param($TestBed, [string] $Name = 'pester', [string] $Password = 'pester-correct-horse')
    $env:CESO_REPOSITORY_PASSWORD = $Password
    $path = Join-Path $TestBed.CesoHome "repo-$Name"
    $null = New-CesoBackupRepository -Name $Name -Path $path -Confirm:$false -ErrorAction Stop
    $path
}

function Get-CesoTestRepositoryState {
    # Every file of a repository directory with its size and hash: -WhatIf must change none.
    param([string] $Path)
    @(Get-ChildItem -Recurse -File $Path | Sort-Object FullName | ForEach-Object {
        "$($_.FullName.Substring($Path.Length)) $($_.Length) $((Get-FileHash -Algorithm SHA256 $_.FullName).Hash)"
    })
}

function Get-CesoTestBedFlatDisk {
    # The local file behind a VM's flat disk on the test bed's first datastore.
    param($TestBed, [string] $Vm)
    Join-Path $TestBed.Info.datastores[0].localDir $Vm "$Vm-flat.vmdk"
}

function Start-CesoTestSwift {
    # A private OpenStack Swift with s3api on 127.0.0.1 (testbed/swift-s3/start.sh); stop it with Stop-CesoTestSwift.
    $state = Join-Path ([IO.Path]::GetTempPath()) ('ceso-swift-' + [guid]::NewGuid().ToString('N').Substring(0, 12))
    # A server that died on start (a port bound by another process between the pick and the bind) is tried again.
    foreach ($attempt in 1..3) {
        $line = & bash (Join-Path $script:RepoRoot 'testbed' 'swift-s3' 'start.sh') $state | Select-Object -Last 1
        if ($LASTEXITCODE -eq 0 -and $line) { break }
    }
    if ($LASTEXITCODE -ne 0 -or -not $line) { throw "testbed/swift-s3/start.sh failed 3 times (its messages are above; logs in $state/log)" }
    $info = $line | ConvertFrom-Json
    [pscustomobject]@{
        State      = $state
        Endpoint   = $info.endpoint
        Credential = [pscredential]::new($info.access_key, (ConvertTo-SecureString $info.secret_key -AsPlainText -Force))
        Secret     = $info.secret_key
    }
}

function Stop-CesoTestSwift {
    param($Swift)
    if (-not $Swift) { return }
    & bash (Join-Path $script:RepoRoot 'testbed' 'swift-s3' 'stop.sh') $Swift.State | Out-Null
    Remove-Item -Recurse -Force $Swift.State -ErrorAction SilentlyContinue
}

function Invoke-CesoTestBedSsh {
    # Runs a command on the test bed's ESXi shell (vim-cmd, vmkfstools, …) as an admin would; throws when it fails.
    param($TestBed, [string] $Command)
    $i = $TestBed.Info
    $out = & ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes -o "UserKnownHostsFile=$($i.knownHosts)" -i $i.sshKey -p $i.sshPort "$($i.sshUser)@127.0.0.1" $Command 2>&1
    if ($LASTEXITCODE -ne 0) { throw "test bed ssh '$Command' failed ($LASTEXITCODE): $out" }
    $out
}

function New-CesoTestTemplate {
    # A template VM on the test bed made as an admin would: a thin copy of vm01's disk (vmkfstools over SSH), a .vmx
    # written into the datastore (vm01's, renamed, with $Set keys set and $Remove key prefixes removed) and
    # vim-cmd solo/registervm. Returns the vmid. vm01 must be powered off. -Image: a guest image of
    # testbed/guest/make-image.sh (good, no-cloud-init, ds-disabled, no-tools) written over the copy's flat file, so
    # the test bed's simulated guest boots it.
    param($TestBed, [string] $Name, [hashtable] $Set = @{}, [string[]] $Remove = @(), [string] $Image)
    $ds = $TestBed.Info.datastores[0]
    $folder = "/vmfs/volumes/$($ds.name)/$Name"
    $null = Invoke-CesoTestBedSsh $TestBed "mkdir -p '$folder' && vmkfstools -i /vmfs/volumes/$($ds.name)/vm01/vm01.vmdk -d thin '$folder/$Name.vmdk'"
    if ($Image) {
        $made = & (Join-Path $PSScriptRoot '..' '..' 'testbed' 'guest' 'make-image.sh') $Image
        if ($LASTEXITCODE -ne 0) { throw "testbed/guest/make-image.sh $Image failed" }
        $path = ($made | Select-Object -Last 1).Split(' ', 2)[1]
        $null = Invoke-CesoTestBedSsh $TestBed "cp --sparse=always '$path' '$folder/$Name-flat.vmdk'"
    }
    $lines = Get-Content (Join-Path $ds.localDir 'vm01' 'vm01.vmx') | Where-Object { $_ -notmatch '^(uuid\.bios|ethernet0\.generatedAddress) ' }
    $lines = $lines -replace '"vm01', "`"$Name" -replace '^displayName = .*', "displayName = `"$Name`""
    foreach ($prefix in $Remove) { $lines = $lines | Where-Object { -not $_.StartsWith($prefix) } }
    foreach ($key in $Set.Keys) {
        $lines = @($lines | Where-Object { -not $_.StartsWith("$key = ") }) + "$key = `"$($Set[$key])`""
    }
    Set-Content -Path (Join-Path $ds.localDir $Name "$Name.vmx") -Value $lines
    (Invoke-CesoTestBedSsh $TestBed "vim-cmd solo/registervm '$folder/$Name.vmx' '$Name'" | Select-Object -Last 1).Trim()
}

function Invoke-CesoChildPwsh {
    # Runs $Script in a fresh pwsh (this process's environment, the built module imported) and returns everything it
    # printed: the per-step "What if:" lines go straight to the console host, so only a child's stdout shows them.
    # The script goes on stdin, never in the child's arguments (a secret in it must not reach /proc/*/cmdline).
    param([string] $Script)
    $psi = [Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
    if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
    foreach ($a in '-NoProfile', '-NoLogo', '-NonInteractive', '-Command', '-') { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $p = [Diagnostics.Process]::Start($psi)
    $p.StandardInput.WriteLine((("Import-Module '$script:ModulePath'`n" + $Script) -split "`r?`n" | Where-Object { $_.Trim() }) -join "`n")
    $p.StandardInput.Close()
    $stdout = $p.StandardOutput.ReadToEndAsync()
    $stderr = $p.StandardError.ReadToEndAsync()
    if (-not $p.WaitForExit(120000)) { $p.Kill($true); throw 'the child pwsh did not finish in 120 s' }
    $stdout.Result + $stderr.Result
}
