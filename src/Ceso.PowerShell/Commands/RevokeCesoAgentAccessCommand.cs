using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.Planning;
using Ceso.Engine.Operations;
using Ceso.Engine.Security;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Ends access given to an AI agent before it expires: one grant by its id, or every active grant of an agent.</para>
/// </summary>
[Cmdlet(VerbsSecurity.Revoke, "CesoAgentAccess", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByAgent)]
[OutputType(typeof(AgentAccess))]
public sealed class RevokeCesoAgentAccessCommand : CesoCmdlet
{
    private const string ByAgent = "ByAgent";
    private const string ById = "ById";

    /// <summary>Every active grant of this agent.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByAgent)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(AgentNameCompleter))]
    public string Agent { get; set; } = "";

    /// <summary>The grant with this id (Get-CesoAgentAccess shows it; pipe its output here).</summary>
    [Parameter(Mandatory = true, ParameterSetName = ById, ValueFromPipelineByPropertyName = true)]
    [ValidatePattern("^g-[0-9a-fA-F]{12}$")]
    public string Id { get; set; } = "";

    /// <summary>Writes the revoked grants.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Revokes (a local plan: -WhatIf, -Confirm and the audit log as for any change).</summary>
    protected override void ProcessRecord()
    {
        var store = new AgentGrantStore(Home);
        var now = DateTimeOffset.UtcNow;
        var byId = ParameterSetName == ById;
        var active = store.List(byId ? null : Agent)
            .Where(g => g.StatusAt(now) == AgentGrantStatus.Active && (!byId || g.Id.Equals(Id, StringComparison.OrdinalIgnoreCase)))
            .ToList();
        if (active.Count == 0)
        {
            var known = byId && store.List().Any(g => g.Id.Equals(Id, StringComparison.OrdinalIgnoreCase));
            if (byId && !known)
            {
                WriteError(ErrorMapper.ToErrorRecord(new CesoException("AgentGrantNotFound", CesoErrorKind.NotFound,
                    $"There is no grant '{Id}' in {store.Path}; Get-CesoAgentAccess -All lists them."), Id));
            }
            else
            {
                WriteVerbose(byId ? $"Grant '{Id}' has already ended; nothing to revoke." : $"Agent '{Agent}' has no active grant; nothing to revoke.");
            }

            return;
        }

        var revoked = new List<AgentGrant>();
        var hostSteps = new List<PlanStep>();
        string? secret = null;
        var hostGrants = new HostGrantStore(Home);
        foreach (var record in active.Select(g => hostGrants.Read(g.Id)).OfType<HostGrantRecord>())
        {
            // The host side goes with a person's admin session; without one it ends at its expiry, by the host's crontab.
            var session = CurrentActor().Agent is null ? Sessions.FindAdmin(record.Server, record.User) : null;
            if (session is null)
            {
                WriteWarning($"Grant {record.GrantId} also gave '{record.User}' the role '{record.Role}' on {record.Server}; without a person's session to {record.Server} that stays until " +
                    $"{record.ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm}Z, when the host's crontab removes it. To end it now, a person connects (Connect-CesoServer {record.Server} -Credential root -SshUser root) and revokes again.");
                continue;
            }

            if (!TryRunEngine(ct => new HostAgentGrants(session, Home).PlanRevokeAsync(record, ct), record.GrantId, out var planned))
            {
                return;
            }

            hostSteps.AddRange(planned);
            secret = session.Profile.SoapPassword;
        }

        var steps = active.Select(g => new PlanStep
        {
            Title = $"Revoke grant {g.Id} of agent '{g.Agent}'",
            Target = $"agent '{g.Agent}'",
            Transport = "local",
            Command = $"revoke grant {g.Id} of agent '{g.Agent}' ({g.Scope}, valid until {g.ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z)",
            Execute = _ =>
            {
                revoked.AddRange(store.Revoke(null, g.Id, DateTimeOffset.UtcNow));
                return Task.CompletedTask;
            },
        }).ToList();
        var plan = new Plan { Operation = "RevokeAgentAccess", Host = "local", Steps = [.. hostSteps, .. steps] };
        if (RunLocalPlan(plan, byId ? Id : Agent, [secret]) == PlanOutcome.Executed && PassThru)
        {
            foreach (var g in revoked)
            {
                WriteObject(AgentAccess.Of(g, DateTimeOffset.UtcNow));
            }
        }
    }
}
