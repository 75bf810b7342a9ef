#Requires -Version 7.4
<#
.SYNOPSIS
Builds, tests, packages and demonstrates the Ceso module.

.DESCRIPTION
Build   : dotnet build Ceso.sln (warnings are errors).
Setup   : installs the test bed's Debian packages when missing (as root) and builds the test bed (testbed/).
Package : assembles out/Ceso/: manifest, root module, Ceso.Loader.dll, format file, help compiled from docs/ by
          build/HelpGen; the cmdlets, the engine and every dependency in bin/ (Ceso's private AssemblyLoadContext).
Test    : Setup, Build, Package, then xunit (dotnet test Ceso.sln) and Pester 5.9.1 (restored from NuGet) on the
          packaged module; the last line is "N passed, N failed" over both; exit code 1 when anything failed.
Demo    : Setup, Package, starts the cesobed test bed, connects, lists the host, VMs and datastores, previews (-WhatIf)
          and creates a VM from a template with an IP and an SSH key, copies it, shows both, removes them, stops the bed.

Run it with the project's own pwsh: dotnet tool restore && dotnet pwsh ./build.ps1 -Task Demo

.EXAMPLE
./build.ps1 -Task Package -Configuration Release
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Setup', 'Test', 'Package', 'Demo')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Debug'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$out = Join-Path $root 'out' 'Ceso'

function Invoke-Native {
    param([string] $Command, [string[]] $Arguments)
    & $Command @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Command $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Invoke-Build {
    Invoke-Native dotnet @('build', (Join-Path $root 'Ceso.sln'), '-c', $Configuration, '-nologo', '-v', 'quiet')
}

function Invoke-Package {
    # The manifest's version must be the one in Directory.Build.props (the single source of the version).
    $prefix = ([xml](Get-Content -Raw (Join-Path $root 'Directory.Build.props'))).Project.PropertyGroup.VersionPrefix | Where-Object { $_ } | Select-Object -First 1
    $manifest = Import-PowerShellDataFile (Join-Path $root 'Ceso.psd1')
    if ($manifest.ModuleVersion -ne $prefix) {
        throw "Ceso.psd1 ModuleVersion $($manifest.ModuleVersion) differs from Directory.Build.props VersionPrefix $prefix."
    }

    # dotnet publish gathers the cmdlet assembly with the engine and every NuGet dependency, managed and native
    # (runtimes/<rid>/native/); all of it goes to bin/, which Ceso.Loader loads into Ceso's private AssemblyLoadContext.
    # Only the loader, the root module, the manifest, the format file and help sit at the top (docs/ARCHITECTURE.md).
    $staging = Join-Path $root 'out' 'publish'
    if (Test-Path $staging) { Remove-Item -Recurse -Force $staging }
    Invoke-Native dotnet @('publish', (Join-Path $root 'src' 'Ceso.PowerShell'), '-c', $Configuration, '-o', (Join-Path $staging 'bin'), '-nologo', '-v', 'quiet')
    Invoke-Native dotnet @('publish', (Join-Path $root 'src' 'Ceso.Loader'), '-c', $Configuration, '-o', (Join-Path $staging 'loader'), '-nologo', '-v', 'quiet')

    if (Test-Path $out) { Remove-Item -Recurse -Force $out }
    $null = New-Item -ItemType Directory -Force $out
    $bin = New-Item -ItemType Directory -Force (Join-Path $out 'bin')
    # System.Management.Automation comes from the pwsh that imports Ceso, never from the module folder.
    Get-ChildItem (Join-Path $staging 'bin') | Where-Object {
        $_.Name -notlike 'System.Management.Automation*' -and $_.Extension -notin '.json', '.xml' -and $_.Name -ne 'Ceso.Loader.dll'
    } | Copy-Item -Destination $bin -Recurse
    Copy-Item (Join-Path $staging 'loader' 'Ceso.Loader.dll'), (Join-Path $staging 'loader' 'Ceso.Loader.pdb') -Destination $out
    Copy-Item (Join-Path $root 'Ceso.psd1'), (Join-Path $root 'Ceso.psm1'), (Join-Path $root 'Ceso.Format.ps1xml') -Destination $out
    Invoke-HelpBuild -OutputPath (Join-Path $out 'en-US')
    Write-Host "Packaged $out"
}

function Invoke-HelpBuild {
    # Compiled help for Get-Help: docs/en-US/*.md -> Ceso.PowerShell.dll-Help.xml (MAML) and docs/about_*.md ->
    # about_*.help.txt, by build/HelpGen (BCL only; fails naming the file and section when a document is incomplete).
    param([Parameter(Mandatory)] [string] $OutputPath)
    $project = Join-Path $root 'build' 'HelpGen' 'HelpGen.csproj'
    Invoke-Native dotnet @('run', '--project', $project, '-c', 'Release', '--', '--docs', (Join-Path $root 'docs'), '--out', $OutputPath)
}

function Get-NuGetPackageFolder {
    $line = & dotnet nuget locals global-packages --list
    if ($LASTEXITCODE -ne 0 -or "$line" -notmatch 'global-packages:\s*(.+)$') { throw "dotnet nuget locals failed: $line" }
    $Matches[1].Trim()
}

function Get-PesterManifest {
    # Pester 5.9.1 comes from NuGet (build/tools/Tools.csproj downloads it); its module is the package's tools/ folder.
    Invoke-Native dotnet @('restore', (Join-Path $root 'build' 'tools' 'Tools.csproj'), '-nologo', '-v', 'quiet')
    $psd1 = Join-Path (Get-NuGetPackageFolder) 'pester' '5.9.1' 'tools' 'Pester.psd1'
    if (-not (Test-Path $psd1)) { throw "Pester 5.9.1 was restored but $psd1 is missing." }
    $psd1
}

function Invoke-FreshPwsh {
    # A new pwsh process like this one: the .NET tool runs as `dotnet pwsh.dll`, an installed pwsh as itself.
    param([string[]] $Arguments)
    $self = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($self) -eq 'dotnet') {
        & $self (Join-Path $PSHOME 'pwsh.dll') @Arguments
    }
    else {
        & $self @Arguments
    }
}

function Read-TrxCounts {
    # The counters of the xunit run's TRX files (one per test project); a run that crashed before writing any counts as
    # one failure.
    param([string] $Folder)
    $files = @(Get-ChildItem $Folder -Filter '*.trx' -Recurse -ErrorAction SilentlyContinue)
    if ($files.Count -eq 0) { return [pscustomobject]@{ Passed = 0; Failed = 1 } }
    $passed = 0; $failed = 0
    foreach ($file in $files) {
        $c = ([xml](Get-Content -Raw $file.FullName)).TestRun.ResultSummary.Counters
        $passed += [int]$c.passed
        $failed += [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted
    }
    [pscustomobject]@{ Passed = $passed; Failed = $failed }
}

function Write-TrxFailures {
    # The name and first message line of every xunit test that did not pass, so the end of a CI log says which failed.
    param([string] $Folder)
    foreach ($file in @(Get-ChildItem $Folder -Filter '*.trx' -Recurse -ErrorAction SilentlyContinue)) {
        $xml = [xml](Get-Content -Raw $file.FullName)
        foreach ($r in @($xml.TestRun.Results.UnitTestResult | Where-Object { $_.outcome -ne 'Passed' -and $_.outcome -ne 'NotExecuted' })) {
            $message = "$($r.Output.ErrorInfo.Message)" -split "`r?`n" | Select-Object -First 3
            Write-Host "xunit FAILED: $($r.testName) [$($r.outcome), $($r.duration)]: $($message -join ' | ')"
        }
    }
}

function Invoke-Test {
    Invoke-Setup
    Invoke-Build
    Invoke-Package
    $results = Join-Path $root 'out' 'test-results'
    if (Test-Path $results) { Remove-Item -Recurse -Force $results }

    # xunit: engine, integration against the test bed, contract tests. A failing run still lets Pester run.
    & dotnet test (Join-Path $root 'Ceso.sln') -c $Configuration --no-build --logger trx --results-directory $results
    $xunit = Read-TrxCounts $results

    # Pester: the packaged module (out/Ceso) in a fresh pwsh, against the test bed.
    $manifest = Get-PesterManifest
    Invoke-FreshPwsh @('-NoProfile', '-File', (Join-Path $root 'build' 'pester.ps1'), '-PesterManifest', $manifest, '-ResultFolder', $results)
    $countsFile = Join-Path $results 'pester-counts.json'
    $pester = if (Test-Path $countsFile) { Get-Content -Raw $countsFile | ConvertFrom-Json } else { [pscustomobject]@{ Passed = 0; Failed = 1 } }

    Write-TrxFailures $results
    foreach ($failure in @($pester.PSObject.Properties['Failures'] ? $pester.Failures : @())) { Write-Host "Pester FAILED: $failure" }
    Write-Host "xunit: $($xunit.Passed) passed, $($xunit.Failed) failed; Pester: $($pester.Passed) passed, $($pester.Failed) failed"
    $passed = $xunit.Passed + $pester.Passed
    $failed = $xunit.Failed + $pester.Failed
    Write-Output "$passed passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-Setup {
    # What the test bed needs on this machine: Debian packages (installed when missing, as root), then its binaries.
    if ($IsLinux) {
        Invoke-Native sh @((Join-Path $root 'testbed' 'install-deps.sh'))
        Invoke-Native sh @((Join-Path $root 'testbed' 'build.sh'))
    }
    else {
        throw 'The test bed (a simulated ESXi host) runs on Linux only; the module itself runs anywhere pwsh 7.4 does.'
    }
}

function Invoke-Demo {
    Invoke-Setup
    Invoke-Package
    $bed = Join-Path $root 'testbed' 'bin' 'cesobed'

    # A throw-away CESO_HOME: the demo pins the test bed's certificate and caches names without touching ~/.ceso.
    $previousHome = $env:CESO_HOME
    $env:CESO_HOME = Join-Path ([IO.Path]::GetTempPath()) ('ceso-demo-' + [guid]::NewGuid().ToString('N'))
    $psi = [Diagnostics.ProcessStartInfo]::new($bed)
    foreach ($a in 'serve', '-vm', '3') { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    $process = [Diagnostics.Process]::Start($psi)
    try {
        $info = $process.StandardOutput.ReadLine() | ConvertFrom-Json
        if ($info.PSObject.Properties['error']) { throw "cesobed: $($info.error)" }

        Import-Module (Join-Path $out 'Ceso.psd1') -Force
        $credential = [pscredential]::new($info.username, (ConvertTo-SecureString $info.password -AsPlainText -Force))
        $connect = @{
            Server         = $info.soapHost
            Port           = $info.soapPort
            Credential     = $credential
            SshUser        = $info.sshUser
            SshPort        = $info.sshPort
            SshKeyPath     = $info.sshKey
            KnownHostsPath = $info.knownHosts
            SshConfigFile  = 'none'
        }
        Connect-CesoServer @connect | Format-Table | Out-Host
        Get-CesoHost | Format-Table | Out-Host
        Get-CesoVm | Format-Table | Out-Host
        Get-CesoDatastore | Format-Table | Out-Host

        # The lifecycle: a VM from the template with an IP and an SSH key (previewed first), a copy, both listed, both removed.
        $key = Join-Path $env:CESO_HOME 'demo_ed25519'
        Invoke-Native ssh-keygen @('-q', '-t', 'ed25519', '-N', '', '-C', 'ceso-demo', '-f', $key)
        $new = @{ Name = 'web01'; Template = 'vm01'; IPAddress = '10.0.0.21/24'; DnsServer = '10.0.0.1'; SshKey = "$key.pub"; NumCpu = 2; MemoryGB = 2 }
        Write-Host '--- New-CesoVm -WhatIf: the exact host commands, nothing is changed' -ForegroundColor Cyan
        New-CesoVm @new -WhatIf
        Write-Host '--- New-CesoVm and Copy-CesoVm' -ForegroundColor Cyan
        New-CesoVm @new -InformationAction Continue | Format-Table | Out-Host
        Copy-CesoVm -Vm web01 -Name web02 -IPAddress 10.0.0.22/24 | Format-Table | Out-Host
        Get-CesoVm web0* | Format-List Name, Id, BiosUuid, @{ n = 'MAC'; e = { $_.Nics.MacAddress } }, Disks | Out-Host
        Get-CesoVm web0* | Remove-CesoVm -Confirm:$false
        Get-CesoVm | Format-Table | Out-Host
        Write-Host '--- The audit log: every step that ran, hash-chained (the demo removes its throw-away CESO_HOME)' -ForegroundColor Cyan
        Get-CesoAuditLog -Last 8 | Format-Table | Out-Host
        Test-CesoAuditLog | Format-List | Out-Host
        Disconnect-CesoServer -Confirm:$false
    }
    finally {
        if (-not $process.HasExited) {
            # SIGTERM lets cesobed stop sshd and vcsim and remove its state folder.
            if ($IsWindows) { $process.Kill($true) } else { & kill -TERM $process.Id }
            if (-not $process.WaitForExit(15000)) { $process.Kill($true) }
        }
        Remove-Item -Recurse -Force $env:CESO_HOME -ErrorAction SilentlyContinue
        $env:CESO_HOME = $previousHome
    }
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Setup' { Invoke-Setup }
    'Package' { Invoke-Package }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
}
