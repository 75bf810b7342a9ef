using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.Connection;
using Ceso.Engine.Security;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Checks that Ceso's audit log is whole: every record carries the SHA-256 of the one before it.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "CesoAuditLog", DefaultParameterSetName = Default)]
[OutputType(typeof(AuditCheck))]
public sealed class TestCesoAuditLogCommand : CesoCmdlet
{
    private const string Default = "Default";

    /// <summary>Writes the check; a broken chain is also an AuditLogTampered error naming the first bad record.</summary>
    protected override void ProcessRecord()
    {
        var check = AuditLog.Open(Home, new Redactor()).Check();
        WriteObject(check);
        if (!check.Intact)
        {
            var error = new CesoException("AuditLogTampered", CesoErrorKind.Security,
                $"The audit log {check.Path} is not whole at line {check.FirstBrokenLine}: that line is not an audit record carrying the hash of the line before it, " +
                "so a record was edited, removed or inserted there (or the line is blank or not JSON). Keep a copy of the file for investigation; new records keep being chained after it.")
            { Target = check.Path };
            WriteError(ErrorMapper.ToErrorRecord(error, check.Path));
        }
    }
}
