using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.Planning;
using Ceso.Engine.Operations;
using Ceso.Engine.Security;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Gives an AI agent time-limited access to change hosts: to everything, to some operations or VMs, or to exactly one plan it previewed, once.</para>
/// </summary>
[Cmdlet(VerbsSecurity.Grant, "CesoAgentAccess", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = Scoped)]
[OutputType(typeof(AgentAccess))]
public sealed class GrantCesoAgentAccessCommand : CesoCmdlet
{
    private const string Scoped = "Scoped";
    private const string ForPlan = "Plan";

    /// <summary>The agent's name, as its sessions set it in CESO_AGENT.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidatePattern("^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")]
    [ArgumentCompleter(typeof(AgentNameCompleter))]
    public string Agent { get; set; } = "";

    /// <summary>How long the grant lasts (default 1 hour, at most 7 days). It ends on its own.</summary>
    [Parameter]
    public TimeSpan Duration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Only changes of these VMs (names or wildcard patterns). A plan about no VM (a repository's) is then not allowed.</summary>
    [Parameter(ParameterSetName = Scoped)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    public string[]? Vm { get; set; }

    /// <summary>Only these operations (CreateVm, CloneVm, ReconfigureVm, StartVm, ShutdownVm, KillVm, ResetVm, RemoveVm, BackupVm, RestoreVm, …).</summary>
    [Parameter(ParameterSetName = Scoped)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(AgentOperationCompleter))]
    public string[]? Operation { get; set; }

    /// <summary>Only changes of this host (its name as the agent connected to it).</summary>
    [Parameter(ParameterSetName = Scoped)]
    [ValidateNotNullOrEmpty]
    public string? Server { get; set; }

    /// <summary>
    /// Exactly the plan whose digest the agent's -WhatIf printed ("What if: plan sha256:…"), once. The agent's real run
    /// must produce the same digest: a changed request or a changed host gives another digest and is refused.
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = ForPlan, ValueFromPipelineByPropertyName = true)]
    [ValidatePattern("^sha256:[0-9a-fA-F]{64}$")]
    [Alias("PlanDigest")]
    public string? Plan { get; set; }

    /// <summary>Refuses agent sessions (an agent never grants access) and checks the duration and operations.</summary>
    protected override void BeginProcessing()
    {
        if (CurrentActor().Agent is { } agent)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(new CesoException("AgentCannotGrant", CesoErrorKind.Security,
                $"This session is driven by agent '{agent}' (CESO_AGENT is set), and agents never grant access: a person runs Grant-CesoAgentAccess in a session without CESO_AGENT."), agent));
        }

        if (Duration <= TimeSpan.Zero || Duration > AgentGrantStore.MaxDuration)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(new CesoException("AgentGrantDurationInvalid", CesoErrorKind.InvalidArgument,
                $"-Duration {Duration} is not allowed: a grant lasts more than 0 and at most {AgentGrantStore.MaxDuration.TotalDays:0} days (e.g. -Duration 1h written as (New-TimeSpan -Hours 1) or '01:00:00')."), Duration));
        }

        foreach (var op in Operation ?? [])
        {
            if (!AgentPolicy.KnownOperations.Contains(op, StringComparer.OrdinalIgnoreCase))
            {
                ThrowTerminatingError(ErrorMapper.ToErrorRecord(new CesoException("AgentOperationUnknown", CesoErrorKind.InvalidArgument,
                    $"-Operation '{op}' is not an operation Ceso plans; use one of: {string.Join(", ", AgentPolicy.KnownOperations)}."), op));
            }
        }
    }

    /// <summary>Records the grant (a local plan: -WhatIf, -Confirm and the audit log as for any change) and writes it.</summary>
    protected override void ProcessRecord()
    {
        var store = new AgentGrantStore(Home);
        var operations = (Operation ?? []).Select(o => AgentPolicy.KnownOperations.First(k => k.Equals(o, StringComparison.OrdinalIgnoreCase))).Distinct().ToList();
        // The expiry is fixed when planning: the host-side removal is scheduled for exactly this time.
        var now = DateTimeOffset.UtcNow;
        var draft = new AgentGrant(AgentGrantStore.NewId(), Agent, Environment.UserName, now, now + Duration, Server, Vm ?? [], operations, Plan?.ToLowerInvariant(), null, null);
        if (!TryPlanHostSide(draft, out var hostSteps, out var hostNotes, out var session))
        {
            return;
        }

        AgentGrant? stored = null;
        var step = new PlanStep
        {
            Title = $"Grant agent '{Agent}' {draft.Scope}",
            Target = $"agent '{Agent}'",
            Transport = "local",
            Command = $"grant agent '{Agent}' {draft.Scope} for {Describe(Duration)} (grant {draft.Id}, {store.Path})",
            Execute = _ =>
            {
                stored = draft;
                store.Add(stored);
                return Task.CompletedTask;
            },
            Undo = _ =>
            {
                if (stored is not null) store.Revoke(null, stored.Id, DateTimeOffset.UtcNow);
                return Task.CompletedTask;
            },
            UndoCommand = $"revoke grant {draft.Id}",
        };
        var plan = new Plan { Operation = "GrantAgentAccess", Host = session?.Server ?? "local", Steps = [.. hostSteps, step], Notes = hostNotes };
        if (RunLocalPlan(plan, Agent, [session?.Profile.SoapPassword]) == PlanOutcome.Executed && stored is not null)
        {
            WriteObject(AgentAccess.Of(stored, DateTimeOffset.UtcNow));
        }
    }

    /// <summary>
    /// For an agent with an account on -Server (New-CesoAgentAccount) and a session to it: the host side of the grant
    /// (operator permission, its removal scheduled on the host). Without a session the grant stays local and a warning
    /// says that the host keeps refusing the agent's writes. False when planning failed (the error is written).
    /// </summary>
    private bool TryPlanHostSide(AgentGrant draft, out IReadOnlyList<PlanStep> steps, out IReadOnlyList<string> notes, out Ceso.Engine.Connection.CesoSession? session)
    {
        steps = [];
        notes = [];
        session = null;
        if (!TryRunEngine(ct => new AgentCredentialStore(Home).ReadAccountAsync(Agent, ct), Agent, out var credential))
        {
            return false;
        }

        if (credential is null || Server is null || !credential.Server.Equals(Server, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        session = Sessions.FindAdmin(Server, credential.User);
        if (session is null)
        {
            WriteWarning($"Agent '{Agent}' has an account on {Server} ('{credential.User}'), but this runspace has no session to {Server}: the grant is recorded here only, and the host keeps refusing the agent's writes. " +
                $"Connect as root with SSH (Connect-CesoServer {Server} -Credential root -SshUser root) and grant again for the host side.");
            return true;
        }

        var host = session;
        if (!TryRunEngine(ct => new HostAgentGrants(host, Home).PlanGrantAsync(credential, draft, ct), Agent, out var planned))
        {
            return false;
        }

        (steps, notes) = planned;
        return true;
    }

    private static string Describe(TimeSpan t) =>
        t.TotalDays >= 1 && t.TotalDays == Math.Floor(t.TotalDays) ? $"{t.TotalDays:0} day(s)"
        : t.TotalHours >= 1 && t.TotalHours == Math.Floor(t.TotalHours) ? $"{t.TotalHours:0} hour(s)"
        : t.TotalMinutes >= 1 && t.TotalMinutes == Math.Floor(t.TotalMinutes) ? $"{t.TotalMinutes:0} minute(s)"
        : t.ToString();
}
