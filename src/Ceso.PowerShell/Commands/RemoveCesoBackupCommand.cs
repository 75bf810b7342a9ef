using System.Management.Automation;
using System.Security;
using Ceso.Engine.Backup;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Removes backups by id, or those a retention policy (-KeepLast, -KeepDaily, …) does not keep, then frees the data no remaining backup uses.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "CesoBackup", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = ById)]
[OutputType(typeof(CesoBackupRetention))]
public sealed class RemoveCesoBackupCommand : BackupCmdlet
{
    private const string ById = "ById";
    private const string ByPolicy = "ByPolicy";

    // Per repository (as given), the ids piped or given, in order; planned together in EndProcessing so one prune frees them all.
    private readonly Dictionary<string, List<string>> _ids = new(StringComparer.Ordinal);

    /// <summary>The repository: a name registered in config.yaml, or a directory path.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RepositoryCompleter))]
    public string Repository { get; set; } = "";

    /// <summary>The backups to remove: ids or unique prefixes, or Get-CesoBackup results.</summary>
    [Parameter(ParameterSetName = ById, Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Id { get; set; } = [];

    /// <summary>Keep the last N backups of each VM (-1: all).</summary>
    [Parameter(ParameterSetName = ByPolicy)]
    [ValidateRange(-1, int.MaxValue)]
    public int? KeepLast { get; set; }

    /// <summary>Keep the newest backup of each of the last N hours that have one (-1: all).</summary>
    [Parameter(ParameterSetName = ByPolicy)]
    [ValidateRange(-1, int.MaxValue)]
    public int? KeepHourly { get; set; }

    /// <summary>Keep the newest backup of each of the last N days that have one (-1: all).</summary>
    [Parameter(ParameterSetName = ByPolicy)]
    [ValidateRange(-1, int.MaxValue)]
    public int? KeepDaily { get; set; }

    /// <summary>Keep the newest backup of each of the last N ISO weeks that have one (-1: all).</summary>
    [Parameter(ParameterSetName = ByPolicy)]
    [ValidateRange(-1, int.MaxValue)]
    public int? KeepWeekly { get; set; }

    /// <summary>Keep the newest backup of each of the last N months that have one (-1: all).</summary>
    [Parameter(ParameterSetName = ByPolicy)]
    [ValidateRange(-1, int.MaxValue)]
    public int? KeepMonthly { get; set; }

    /// <summary>Keep the newest backup of each of the last N years that have one (-1: all).</summary>
    [Parameter(ParameterSetName = ByPolicy)]
    [ValidateRange(-1, int.MaxValue)]
    public int? KeepYearly { get; set; }

    /// <summary>Apply the policy only to backups of these VMs (names at backup time; wildcards). Default: every VM.</summary>
    [Parameter(ParameterSetName = ByPolicy)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    public string[]? Vm { get; set; }

    /// <summary>Only remove the backups; leave freeing their data to a later run.</summary>
    [Parameter]
    public SwitchParameter NoPrune { get; set; }

    /// <summary>The repository password. Default: $env:CESO_REPOSITORY_PASSWORD.</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString? Password { get; set; }

    /// <summary>Collects the ids per repository.</summary>
    protected override void ProcessRecord()
    {
        if (!_ids.TryGetValue(Repository, out var ids))
        {
            _ids[Repository] = ids = [];
        }

        if (ParameterSetName == ById)
        {
            ids.AddRange(Id.Where(i => !ids.Contains(i, StringComparer.OrdinalIgnoreCase)));
        }
    }

    /// <summary>Plans each repository's removal, asks per step and runs it.</summary>
    protected override void EndProcessing()
    {
        var password = PlainPassword(Password);
        var policy = ParameterSetName == ByPolicy
            ? new ForgetPolicy { KeepLast = KeepLast, KeepHourly = KeepHourly, KeepDaily = KeepDaily, KeepWeekly = KeepWeekly, KeepMonthly = KeepMonthly, KeepYearly = KeepYearly }
            : null;
        var vms = Vm?.Select(p => WildcardPattern.Get(p, WildcardOptions.IgnoreCase)).ToList();
        Func<BackupSnapshot, bool>? scope = vms is null ? null : s => vms.Any(p => p.IsMatch(s.VmName));
        foreach (var (name, ids) in _ids)
        {
            if (OpenRepository(name, password, name) is not { } repo ||
                !TryRunEngine(ct => RemoveBackup.PlanAsync(repo, policy is null ? ids : null, policy, scope, !NoPrune, ct), name, out var planned))
            {
                continue;
            }

            var (plan, decisions) = planned;
            var outcome = RunLocalPlan(plan, name, Secrets(password));
            // -WhatIf shows what would go and why each kept one stays; a policy run also reports what it did.
            if (outcome == PlanOutcome.Previewed || (policy is not null && outcome is PlanOutcome.Executed or PlanOutcome.NothingToDo))
            {
                WriteObject(decisions, enumerateCollection: true);
            }
        }
    }
}
