using System.Management.Automation;
using System.Security;
using Ceso.Engine.Backup;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Checks a backup repository's integrity; -ReadData also decrypts and hashes every stored block.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "CesoBackup", DefaultParameterSetName = Structure)]
[OutputType(typeof(CesoBackupCheck), typeof(bool))]
public sealed class TestCesoBackupCommand : BackupCmdlet
{
    private const string Structure = "Structure";
    private const string All = "ReadData";
    private const string Subset = "ReadDataSubset";

    /// <summary>Repositories: names registered in config.yaml, or directory paths. Default: every registered one.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RepositoryCompleter))]
    public string[]? Repository { get; set; }

    /// <summary>Also read every pack: decrypt and hash each block and file.</summary>
    [Parameter(ParameterSetName = All, Mandatory = true)]
    public SwitchParameter ReadData { get; set; }

    /// <summary>Read part of the packs: <c>n/m</c> (the n-th of m parts) or a percentage (<c>10%</c>).</summary>
    [Parameter(ParameterSetName = Subset, Mandatory = true)]
    [ValidatePattern(@"^\s*(\d+\s*/\s*\d+|\d+(\.\d+)?\s*%)\s*$")]
    public string? ReadDataSubset { get; set; }

    /// <summary>Return only $true (no problem found) or $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <summary>The repository password. Default: $env:CESO_REPOSITORY_PASSWORD.</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString? Password { get; set; }

    /// <summary>Checks each repository and writes the result.</summary>
    protected override void ProcessRecord()
    {
        var password = PlainPassword(Password);
        foreach (var name in Repository ?? RegisteredRepositories())
        {
            if (OpenRepository(name, password, name) is not { } repo)
            {
                continue;
            }

            var activityId = NextActivityId();
            var activity = $"Checking backup repository {repo.Label}";
            var progress = OnPipeline<CheckProgress>(p => WriteProgress(new ProgressRecord(activityId, activity, p.Total > 0 ? $"{p.Phase}: {p.Done} of {p.Total}" : p.Phase)
            {
                PercentComplete = p.Total > 0 ? (int)Math.Min(100, p.Done * 100 / p.Total) : -1,
            }));
            try
            {
                // A problem found is the result, not an error; an error is only a check that could not run. The
                // checker reads a subset only when it reads data at all, so a subset turns reading on.
                if (!TryRunEngine(ct => BackupOperations.CheckAsync(repo, ReadData || ReadDataSubset is not null, ReadDataSubset, progress, ct), name, out var check))
                {
                    continue;
                }

                foreach (var problem in check.Problems)
                {
                    WriteVerbose($"{check.Repository}: {problem}");
                }

                WriteObject(Quiet ? check.Ok : check);
            }
            finally
            {
                WriteProgress(new ProgressRecord(activityId, activity, "Done") { RecordType = ProgressRecordType.Completed });
            }
        }
    }
}
