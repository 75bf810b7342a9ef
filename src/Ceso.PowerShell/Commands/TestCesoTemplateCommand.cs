using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.Model;
using Ceso.Engine.Templates;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Checks that a template's copies would come out right: powered off, no snapshots, disks, space, no ISO, a good NIC, firmware, no stale guestinfo, VMware Tools.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "CesoTemplate")]
[OutputType(typeof(TemplateReport), typeof(bool))]
public sealed class TestCesoTemplateCommand : CesoCmdlet
{
    /// <summary>Templates: registry names (config.yaml) or VM names or ids.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(TemplateCompleter))]
    public string[] Name { get; set; } = [];

    /// <summary>
    /// The session to check on: a server name, a session id or a Connect-CesoServer result. Default: the default
    /// session (also when a piped registry entry is for any server).
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity? Server { get; set; }

    /// <summary>Write only $true (ready) or $false per template.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <summary>Checks each template and writes its report; records the result in the registry entry, if any.</summary>
    protected override void ProcessRecord()
    {
        if (ResolveServer(Server) is not { } session)
        {
            return;
        }

        var checker = new TemplateChecker(session, Home);
        foreach (var name in Name)
        {
            // Not ready is the result; an error is only a template that could not be checked.
            if (!TryRunEngine(ct => checker.CheckAsync(name, ct), name, out var report))
            {
                continue;
            }

            foreach (var check in report.Checks)
            {
                WriteVerbose($"{report.Name}: {check}");
            }

            try
            {
                checker.Record(report);
            }
            catch (Exception e) when (e is CesoException or IOException or UnauthorizedAccessException)
            {
                WriteWarning($"Could not record the result of '{report.Name}' in the template registry: {e.Message}");
            }

            WriteObject(Quiet ? report.IsReady : report);
        }
    }
}
