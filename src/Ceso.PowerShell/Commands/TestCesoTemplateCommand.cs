using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.Model;
using Ceso.Engine.Templates;
using Ceso.PowerShell.Completers;
using Ceso.Engine.Connection;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Checks that a template's copies would come out right: powered off, no snapshots, disks, space, no ISO, a good NIC, firmware, no stale guestinfo, VMware Tools; with -Boot also inside the guest, through a disposable copy.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "CesoTemplate", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
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

    /// <summary>
    /// Also check inside the guest: boot a disposable thin copy with a probe cloud-config that reports cloud-init,
    /// its datasource, open-vm-tools, and whether the static IP, hostname and SSH key from guestinfo were applied, to
    /// a file-backed serial port; the copy is removed afterwards (also on failure, timeout and Ctrl+C).
    /// </summary>
    [Parameter]
    public SwitchParameter Boot { get; set; }

    /// <summary>How long the probe copy may take to boot, report and power itself off (-Boot). Default 10 minutes.</summary>
    [Parameter]
    [Alias("BootTimeout")]
    [ValidateRange(5, 86400)]
    public int BootTimeoutSec { get; set; } = 600;

    /// <summary>
    /// The static address (CIDR) the probe copy is given through guestinfo, which its StaticIP check then looks for
    /// (-Boot). Default 192.0.2.10/24, in TEST-NET-1 (RFC 5737), which no network routes, so the copy cannot take a real
    /// machine's address on the template's portgroup; give an unused address of that network when the guest must
    /// configure a real subnet (a template whose netplan or firewall rules expect one).
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? BootIPAddress { get; set; }

    /// <summary>The probe copy's gateway (-Boot). Default: the first host of -BootIPAddress's subnet.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? BootGateway { get; set; }

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

            if (Boot && !TryBoot(session, report, out report))
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

    // The guest checks join the host checks in the same report. A template whose blocking host checks failed is not
    // booted (the report says so); a probe that could not finish (timeout, Ctrl+C) is an error; -WhatIf previews the
    // probe's plan and writes no report.
    private bool TryBoot(CesoSession session, TemplateReport report, out TemplateReport withGuest)
    {
        withGuest = report;
        if (report.Checks.Where(c => BootProbe.Blocking.Contains(c.Name) && !c.Passed).Select(c => c.Name).ToList() is { Count: > 0 } blocked)
        {
            withGuest = report with
            {
                Checks = [.. report.Checks, new TemplateCheck
                {
                    Name = TemplateCheckName.ProbeReport, Level = TemplateCheckLevel.Failed,
                    Detail = $"not booted: the host check(s) {string.Join(", ", blocked)} failed, and a copy of the template as it is would be wrong",
                    Fix = $"fix {string.Join(", ", blocked)} (see their fixes), then Test-CesoTemplate -Boot again",
                }],
            };
            return true;
        }

        var request = new BootProbeRequest { Timeout = TimeSpan.FromSeconds(BootTimeoutSec), Gateway = BootGateway };
        if (BootIPAddress is not null)
        {
            request = request with { IPAddress = BootIPAddress };
        }

        var probe = new BootProbe(session, Home);
        if (RunPlan(session, report.Name, ct => probe.PlanAsync(report, request, ct), out var run) != PlanOutcome.Executed || run is null)
        {
            return false;
        }

        withGuest = report with { Checks = [.. report.Checks, .. run.Checks()], CheckedAt = DateTimeOffset.UtcNow };
        return true;
    }
}
