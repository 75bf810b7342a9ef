#Requires -Version 7.4
<#
.SYNOPSIS
Runs tests/Pester against the packaged module (out/Ceso) with Pester 5.9.1 and writes the counts as JSON.
.DESCRIPTION
build.ps1 -Task Test starts this in a fresh pwsh, so that nothing of the build script's own state (StrictMode,
preferences, loaded modules) reaches the tests: they run as a user's session would. A file that does not parse or
whose BeforeAll throws counts as failed, never as silently skipped.
#>
param(
    [Parameter(Mandatory)] [string] $PesterManifest,
    [Parameter(Mandatory)] [string] $ResultFolder
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterManifest -Force
$config = New-PesterConfiguration
$config.Run.Path = Join-Path $PSScriptRoot '..' 'tests' 'Pester'
$config.Run.Exit = $false
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputPath = Join-Path $ResultFolder 'pester.xml'
# The tests run with a user's default preference (Continue): the Stop above would leak into their scopes and turn
# the non-terminating errors they capture and assert on (AgentRestricted written per input, …) into thrown ones.
$ErrorActionPreference = 'Continue'
$result = Invoke-Pester -Configuration $config
if (-not $result -or ($result.PassedCount + $result.FailedCount) -eq 0) {
    # No result (Pester itself failed, e.g. writing its XML report) is a failure, never "0 failed".
    [pscustomobject]@{ Passed = 0; Failed = 1; Failures = @('Pester returned no test results (see the output above)') } |
        ConvertTo-Json | Set-Content (Join-Path $ResultFolder 'pester-counts.json')
    return
}
[pscustomobject]@{
    Passed = $result.PassedCount
    Failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    # Named again at the very end of build.ps1's output, where a CI log's tail shows them.
    Failures = @(@($result.Failed) + @($result.FailedBlocks) + @($result.FailedContainers) | Where-Object { $_ } | ForEach-Object {
        $name = if ($_.PSObject.Properties['ExpandedPath']) { $_.ExpandedPath } elseif ($_.PSObject.Properties['Name']) { $_.Name } else { "$_" }
        $why = if ($_.ErrorRecord) { ("$($_.ErrorRecord[0].Exception.Message)" -split "`r?`n")[0] } else { '' }
        "$name`: $why"
    })
} | ConvertTo-Json | Set-Content (Join-Path $ResultFolder 'pester-counts.json')
