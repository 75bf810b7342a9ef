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

    private PlanRunner(CesoHome home, Redactor redactor, PlanExecutor executor)
    {
        Home = home;
        Redactor = redactor;
        _executor = executor;
    }

    /// <summary>
    /// A runner for plans on <paramref name="session"/>: its API password is a known secret, and the audit log under
    /// <paramref name="home"/> must open, else <c>AuditLogUnavailable</c> and nothing can run.
    /// </summary>
    public static PlanRunner Open(CesoHome home, CesoSession session, AuditActor actor)
    {
        var redactor = new Redactor();
        redactor.Add(session.Profile.SoapPassword);
        return Open(home, redactor, actor);
    }

    /// <summary>A runner with a given redactor (tests, and callers that know more secrets).</summary>
    public static PlanRunner Open(CesoHome home, Redactor redactor, AuditActor actor)
    {
        try
        {
            return new PlanRunner(home, redactor, new PlanExecutor(AuditLog.Open(home, redactor), redactor, actor));
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

    /// <summary>Runs an approved plan (see <see cref="PlanExecutor.ExecuteAsync"/>).</summary>
    public Task<PlanResult> RunAsync(Plan plan, IProgress<PlanProgress>? progress = null, CancellationToken ct = default) =>
        _executor.ExecuteAsync(plan, progress, ct);

    /// <summary>Records that could not be written to the audit log; the front end shows them as warnings.</summary>
    public IReadOnlyList<string> AuditFailures => _executor.AuditFailures;
}
