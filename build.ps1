#Requires -Version 7.4
<#
.SYNOPSIS
Builds, tests, packages and demonstrates the Ceso module.

.DESCRIPTION
Build   : dotnet build Ceso.sln (warnings are errors).
Test    : dotnet test, then Invoke-Pester tests/Pester when Pester 5 is installed (against out/Ceso; packages first).
Package : assembles out/Ceso/ (manifest, format file, assemblies, en-US help compiled from docs/ by build/HelpGen).
Demo    : builds, packages, starts the cesobed test bed, connects, lists the host, VMs and datastores, previews (-WhatIf)
          and creates a VM from a template with an IP and an SSH key, copies it, shows both, removes them, stops the bed.

.EXAMPLE
./build.ps1 -Task Package -Configuration Release
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Package', 'Demo')]
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
    Invoke-Native dotnet @('build', (Join-Path $root 'Ceso.sln'), '-c', $Configuration)
}

function Invoke-Package {
    Invoke-Build
    # The manifest's version must be the one in Directory.Build.props (the single source of the version).
    $prefix = ([xml](Get-Content -Raw (Join-Path $root 'Directory.Build.props'))).Project.PropertyGroup.VersionPrefix | Where-Object { $_ } | Select-Object -First 1
    $manifest = Import-PowerShellDataFile (Join-Path $root 'Ceso.psd1')
    if ($manifest.ModuleVersion -ne $prefix) {
        throw "Ceso.psd1 ModuleVersion $($manifest.ModuleVersion) differs from Directory.Build.props VersionPrefix $prefix."
    }

    if (Test-Path $out) { Remove-Item -Recurse -Force $out }
    $null = New-Item -ItemType Directory -Force $out
    $bin = Join-Path $root 'src' 'Ceso.PowerShell' 'bin' $Configuration 'net8.0'
    # Ceso.PowerShell.dll stays in the default load context; the engine and its dependencies go to bin/, which
    # ModuleLifecycle loads into Ceso's private AssemblyLoadContext (docs/ARCHITECTURE.md).
    $private = New-Item -ItemType Directory -Force (Join-Path $out 'bin')
    Get-ChildItem $bin -File | Where-Object { $_.Extension -in '.dll', '.pdb' -and $_.Name -notlike 'System.Management.Automation*' } |
        ForEach-Object { Copy-Item $_.FullName -Destination ($_.BaseName -eq 'Ceso.PowerShell' ? $out : $private) }
    Copy-Item (Join-Path $root 'Ceso.psd1'), (Join-Path $root 'Ceso.Format.ps1xml') -Destination $out
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

function Invoke-Test {
    Invoke-Native dotnet @('test', (Join-Path $root 'tests' 'Unit'), '-c', $Configuration)
    if (Get-Module -ListAvailable Pester | Where-Object Version -ge '5.0.0') {
        Invoke-Package
        Import-Module Pester -MinimumVersion 5.0.0
        $config = New-PesterConfiguration
        $config.Run.Path = Join-Path $root 'tests' 'Pester'
        $config.Run.Exit = $false
        $config.Run.PassThru = $true
        $config.Output.Verbosity = 'Detailed'
        $result = Invoke-Pester -Configuration $config
        if ($result.FailedCount -gt 0) { throw "$($result.FailedCount) Pester test(s) failed." }
    }
    else {
        Write-Warning 'Pester 5 is not installed: skipped tests/Pester (Install-Module Pester -MinimumVersion 5.0).'
    }
}

function Invoke-Demo {
    Invoke-Package
    $bed = Join-Path $root 'testbed' 'bin' 'cesobed'
    if (-not (Test-Path $bed)) { Invoke-Native sh @((Join-Path $root 'testbed' 'build.sh')) }

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
        Write-Host "Audit log: $(Join-Path $env:CESO_HOME 'audit' 'audit.jsonl')" -ForegroundColor Cyan
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
    'Package' { Invoke-Package }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
}
