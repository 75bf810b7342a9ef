using System.Management.Automation;
using System.Security;
using Ceso.Engine.Backup;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Lists the backups in one repository or in every registered one, oldest first, filtered by VM, tag, time or id.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CesoBackup")]
[OutputType(typeof(CesoBackup))]
public sealed class GetCesoBackupCommand : BackupCmdlet
{
    /// <summary>Repositories: names registered in config.yaml, or directory paths. Default: every registered one.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RepositoryCompleter))]
    public string[]? Repository { get; set; }

    /// <summary>Only backups of these VMs (names at backup time; wildcards).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    public string[]? Vm { get; set; }

    /// <summary>Only backups that carry at least one of these tags.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Tag { get; set; }

    /// <summary>Only backups taken at or after this time.</summary>
    [Parameter]
    public DateTime? After { get; set; }

    /// <summary>Only backups taken before this time.</summary>
    [Parameter]
    public DateTime? Before { get; set; }

    /// <summary>Only these backups: ids or unique prefixes (the 8-digit ShortId).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }

    /// <summary>The repository password. Default: $env:CESO_REPOSITORY_PASSWORD.</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString? Password { get; set; }

    private readonly List<CesoBackup> _found = [];
    private readonly HashSet<string> _idsSeen = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Reads each repository's backups.</summary>
    protected override void ProcessRecord()
    {
        var password = PlainPassword(Password);
        var repositories = Repository ?? RegisteredRepositories();
        if (Repository is null && repositories.Count == 0)
        {
            WriteVerbose($"No repository is registered in {System.IO.Path.Combine(Home.Path, "config.yaml")}; create one with New-CesoBackupRepository, or give -Repository with a path.");
        }

        foreach (var name in repositories)
        {
            if (OpenRepository(name, password, name) is not { } repo)
            {
                continue;
            }

            var vms = Vm?.Select(p => WildcardPattern.Get(p, WildcardOptions.IgnoreCase)).ToList();
            var after = After is { } a ? new DateTimeOffset(a.ToUniversalTime()) : (DateTimeOffset?)null;
            var before = Before is { } b ? new DateTimeOffset(b.ToUniversalTime()) : (DateTimeOffset?)null;
            bool Wanted(BackupSnapshot s) =>
                (vms is null || vms.Any(p => p.IsMatch(s.VmName))) &&
                (Tag is null || Tag.Any(t => s.Tags.Contains(t, StringComparer.OrdinalIgnoreCase))) &&
                (after is null || s.Time >= after) &&
                (before is null || s.Time < before) &&
                (Id is null || Id.Any(i => s.Id.StartsWith(i, StringComparison.OrdinalIgnoreCase)));
            if (TryRunEngine(ct => BackupOperations.ListAsync(repo, Wanted, ct), name, out var backups))
            {
                _found.AddRange(backups);
                foreach (var i in Id ?? [])
                {
                    if (backups.Any(x => x.Id.StartsWith(i, StringComparison.OrdinalIgnoreCase)))
                    {
                        _idsSeen.Add(i);
                    }
                }
            }
        }
    }

    /// <summary>Writes what was found, oldest first across repositories; an id that matched nothing is an error.</summary>
    protected override void EndProcessing()
    {
        WriteObject(_found.OrderBy(b => b.Time).ThenBy(b => b.Id, StringComparer.Ordinal), enumerateCollection: true);
        foreach (var missing in (Id ?? []).Where(i => !_idsSeen.Contains(i)))
        {
            var e = new Ceso.Engine.CesoException("BackupNotFound", Ceso.Engine.CesoErrorKind.NotFound,
                $"No backup with id '{missing}' is in {(Repository is null ? "any registered repository" : string.Join(", ", Repository.Select(r => $"'{r}'")))}. Run Get-CesoBackup to list them.")
            { Target = missing };
            WriteError(ErrorMapper.ToErrorRecord(e, missing));
        }
    }
}
