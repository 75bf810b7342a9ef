using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.Connection;
using Ceso.Engine.Security;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Reads Ceso's audit log: every step that ran or was previewed, newest last.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CesoAuditLog", DefaultParameterSetName = Default)]
[OutputType(typeof(AuditRecord))]
public sealed class GetCesoAuditLogCommand : CesoCmdlet
{
    private const string Default = "Default";

    /// <summary>Only records about these VMs; wildcards allowed.</summary>
    [Parameter(ParameterSetName = Default, Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Vm { get; set; }

    /// <summary>Only these operations (CreateVm, CloneVm, ReconfigureVm, StartVm, RemoveVm, …); wildcards allowed.</summary>
    [Parameter(ParameterSetName = Default)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Operation { get; set; }

    /// <summary>Only these results: preview (-WhatIf), declined (at -Confirm), refused (an agent without a grant), granted (an agent under a grant), ok, failed, cancelled, undone, undo-failed, cleanup-failed, cleanup-skipped.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateSet("preview", "declined", "refused", "granted", "ok", "failed", "cancelled", "undone", "undo-failed", "cleanup-failed", "cleanup-skipped")]
    public string[]? Result { get; set; }

    /// <summary>Only the last N matching records.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateRange(1, int.MaxValue)]
    public int? Last { get; set; }

    /// <summary>Writes the matching records in the order they were written.</summary>
    protected override void ProcessRecord()
    {
        var log = AuditLog.Open(Home, new Redactor());
        var vms = Patterns(Vm);
        var operations = Patterns(Operation);
        var unreadable = new List<int>();
        var matching = log.Read(unreadable.Add).Where(r =>
            (vms is null || (r.Vm is not null && vms.Any(p => p.IsMatch(r.Vm))))
            && (operations is null || operations.Any(p => p.IsMatch(r.Operation)))
            && (Result is null || Result.Contains(r.Result, StringComparer.OrdinalIgnoreCase)));
        var records = Last is { } n ? matching.TakeLast(n) : matching;
        foreach (var record in records)
        {
            WriteObject(record);
        }

        foreach (var line in unreadable)
        {
            // The readable records are still written: an investigator needs them most when the log was tampered with.
            var error = new CesoException("AuditLogTampered", CesoErrorKind.Security,
                $"Line {line} of the audit log {log.Path} is not an audit record (it is not JSON or misses fields), so it was edited or written by something else; it was skipped. Run Test-CesoAuditLog, and keep a copy of the file for investigation.")
            { Target = log.Path };
            WriteError(ErrorMapper.ToErrorRecord(error, log.Path));
        }
    }

    private static List<WildcardPattern>? Patterns(string[]? names) =>
        names?.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
}
