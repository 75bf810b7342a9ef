using Ceso.Engine.Connection;
using Ceso.Engine.Security;

namespace Ceso.Engine.Planning;

/// <summary>
/// The engine's one way to run plans, for every front end (the cmdlets now, a local API later): the session's secrets
/// masked in everything shown or recorded, the audit log opened before anything runs (Ceso never changes a host
/// without recording it), every step offered for approval, then a run whose failures undo and whose cleanups always
/// run. A front end keeps only its own parts: asking (ShouldProcess), showing progress, writing results.
/// </summary>
public sealed class PlanRunner
{
    private readonly PlanExecutor _executor;

    private PlanRunner(CesoHome home, Redactor redactor, PlanExecutor executor, AgentPolicy policy)
    {
        Home = home;
        Redactor = redactor;
        _executor = executor;
        Policy = policy;
    }

    /// <summary>
    /// A runner for plans on <paramref name="session"/>: its API password is a known secret, and the audit log under
    /// <paramref name="home"/> must open, else <c>AuditLogUnavailable</c> and nothing can run.
    /// </summary>
    public static PlanRunner Open(CesoHome home, CesoSession session, AuditActor actor)
    {
        var redactor = new Redactor();
        redactor.Add(session.Profile.SoapPassword);
        return Open(home, redactor, session.SshCertificate is { } cert ? actor with { SshCertificate = cert.KeyId } : actor);
    }

    /// <summary>A runner with a given redactor (tests, and callers that know more secrets).</summary>
    public static PlanRunner Open(CesoHome home, Redactor redactor, AuditActor actor, TimeProvider? clock = null)
    {
        try
        {
            return new PlanRunner(home, redactor, new PlanExecutor(AuditLog.Open(home, redactor), redactor, actor), new AgentPolicy(home, actor, clock));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CesoException("AuditLogUnavailable", CesoErrorKind.InvalidState,
                $"The audit log under '{home.Path}' cannot be opened ({e.Message}); Ceso does not change a host without recording it. Fix the permissions of that folder, or set CESO_HOME to a writable one.", e);
        }
    }

    /// <summary>Ceso's home folder (audit log, identity key).</summary>
    public CesoHome Home { get; }

    /// <summary>Masks the secrets this runner knows.</summary>
    public Redactor Redactor { get; }

    /// <summary>What a step shows (-WhatIf, confirmation, errors): its exact command(s) and notes, secrets masked.</summary>
    public string Show(PlanStep step) => _executor.Show(step);

    /// <summary>The plan's digest ("sha256:…"), printed with -WhatIf and carried by every audit record of the plan.</summary>
    public static string Digest(Plan plan) => PlanDigest.Of(plan);

    /// <summary>Offers every step to <paramref name="ask"/> and records a preview or a decline (see <see cref="PlanExecutor.Approve"/>).</summary>
    public PlanDecision Approve(Plan plan, Func<PlanStep, StepAnswer> ask) => _executor.Approve(plan, ask);

    /// <summary>The agent policy every run passes (restricted mode when an agent drives).</summary>
    public AgentPolicy Policy { get; }

    /// <summary>
    /// Runs an approved plan (see <see cref="PlanExecutor.ExecuteAsync"/>) once the agent policy allowed it: an agent's
    /// plan without a grant is refused before its first step (<c>AgentRestricted</c>), and the audit log records the
    /// refusal or the grant that allowed it.
    /// </summary>
    public Task<PlanResult> RunAsync(Plan plan, IProgress<PlanProgress>? progress = null, CancellationToken ct = default)
    {
        Authorize(plan);
        return _executor.ExecuteAsync(plan, progress, ct);
    }

    /// <summary>
    /// Asks the agent policy about a plan and records its answer: the grant that allows it (null when a person drives),
    /// or <see cref="AgentRestrictedException"/> after recording the refusal. Also for changes a front end makes without
    /// steps of their own (a configuration entry), described as a one-step plan.
    /// </summary>
    public AgentGrant? Authorize(Plan plan)
    {
        var digest = Digest(plan);
        var what = $"{plan.Operation}{(plan.Vm is null ? "" : $" of '{plan.Vm}'")} on {plan.Host} ({plan.Steps.Count} step(s))";
        AgentGrant? grant;
        try
        {
            grant = Policy.Authorize(plan.Operation, plan.Host, plan.Vm, digest, what);
        }
        catch (AgentRestrictedException e)
        {
            _executor.RecordAuthorization(plan, "refused", $"agent '{e.Agent}' refused: no grant allows this plan", e.Message);
            throw;
        }

        if (grant is not null)
        {
            _executor.RecordAuthorization(plan, "granted",
                $"agent '{grant.Agent}' runs this plan under grant {grant.Id} ({grant.Scope}), granted by {grant.GrantedBy}, valid until {grant.ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z");
        }

        return grant;
    }

    /// <summary>Records that could not be written to the audit log; the front end shows them as warnings.</summary>
    public IReadOnlyList<string> AuditFailures => _executor.AuditFailures;
}
