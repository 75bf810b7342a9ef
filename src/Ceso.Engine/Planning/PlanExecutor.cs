using System.Diagnostics;
using Ceso.Engine.Security;

namespace Ceso.Engine.Planning;

/// <summary>
/// Runs plans: each step audited; on failure (or cancellation) the completed steps are undone in reverse, and the
/// error says what failed, what was undone, and what is left if an undo failed too.
/// </summary>
/// <param name="audit">Where every step is recorded.</param>
/// <param name="redactor">Masks secrets in everything shown or recorded.</param>
/// <param name="actor">Who asks for the plans (the operator and agent of every record).</param>
public sealed class PlanExecutor(AuditLog audit, Redactor redactor, AuditActor actor)
{
    /// <summary>The text a user may see for a step (-WhatIf, ShouldProcess, errors): secrets masked.</summary>
    public string Show(PlanStep step) => redactor.Redact(
        step.Command
        + (step.FallbackCommand is null ? "" : $"  [if the host refuses it (free license): {step.FallbackCommand}]")
        + (step.Notes.Count == 0 ? "" : $"  (note: {string.Join("; ", step.Notes)})")
        + (step.Kind == StepKind.Cleanup ? "  (cleanup: runs after the other steps, also when one fails)" : ""));

    /// <summary>Records a -WhatIf preview of every step (nothing runs).</summary>
    public void RecordPreview(Plan plan) => RecordAll(plan, "preview");

    /// <summary>
    /// Asks about every step (ShouldProcess in the cmdlets) and decides: all approved = run; -WhatIf = every step is
    /// offered, so the preview shows the whole plan, and recorded as <c>preview</c>; a declined step = no more
    /// questions, nothing runs, every step recorded as <c>declined</c> (a decline is not a -WhatIf).
    /// </summary>
    public PlanDecision Approve(Plan plan, Func<PlanStep, StepAnswer> ask)
    {
        var previewed = false;
        foreach (var step in plan.Steps)
        {
            switch (ask(step))
            {
                case StepAnswer.Declined:
                    RecordAll(plan, "declined");
                    return PlanDecision.Declined;
                case StepAnswer.WhatIf:
                    previewed = true;
                    break;
            }
        }

        if (previewed)
        {
            RecordPreview(plan);
            return PlanDecision.Previewed;
        }

        return PlanDecision.Run;
    }

    /// <summary>
    /// Records the agent policy's answer for a whole plan before it runs: <c>granted</c> (which grant allowed it) or
    /// <c>refused</c> (nothing ran); one record for the plan, on the local transport.
    /// </summary>
    public void RecordAuthorization(Plan plan, string result, string text, string? error = null) =>
        Audit(Record(plan, "local", text, result, error, 0));

    private void RecordAll(Plan plan, string result)
    {
        foreach (var s in plan.Steps)
        {
            Audit(Record(plan, s, result, null, 0));
        }
    }

    /// <summary>
    /// Executes the plan: the changes in order, then the cleanups. Throws <see cref="PlanFailedException"/> after undoing
    /// the completed changes and running the cleanups when a change fails (or on Ctrl+C). A cleanup that fails is a
    /// warning in the result, never a reason to undo finished work.
    /// </summary>
    public async Task<PlanResult> ExecuteAsync(Plan planned, IProgress<PlanProgress>? progress = null, CancellationToken ct = default)
    {
        // The run's own bindings: data steps get their code from the plan's interpreter, so nothing a run learns is kept
        // in the plan; the plan as run keeps the digest of the plan as approved.
        var bindings = new RunBindings();
        var plan = planned with { Steps = planned.Steps.Select(s => Bind(planned.Interpreter, s, bindings)).ToList() };
        PlanDigest.Keep(plan, PlanDigest.Of(planned));
        var run = new RunState(plan, bindings.Completed) { Progress = progress };
        for (var i = 0; i < plan.Steps.Count; i++)
        {
            var step = plan.Steps[i];
            if (step.Kind == StepKind.Cleanup)
            {
                continue;
            }

            progress?.Report(new PlanProgress(i + 1, plan.Steps.Count, redactor.Redact(step.Title)));
            try
            {
                ct.ThrowIfCancellationRequested();
            }
            catch (OperationCanceledException e)
            {
                throw await FailAsync(run, step, e, started: false).ConfigureAwait(false);
            }

            PlanStep ran;
            run.Started.Add(step.Title);
            try
            {
                ran = await RunAsync(plan, step, ct, StepProgress(progress, i, plan.Steps.Count, redactor.Redact(step.Title)), "failed").ConfigureAwait(false);
            }
            catch (StepFailedException e)
            {
                throw await FailAsync(run, e.Step, e.InnerException!, started: true).ConfigureAwait(false);
            }

            run.Done.Push(ran);
            run.Completed.Add(step.Title);
        }

        return new PlanResult(await CleanUpAsync(run).ConfigureAwait(false), bindings);
    }

    // A step whose code cannot be made for this run (the host adapter refuses to build the call, e.g. a hot-add once
    // a free license is known) fails when it is reached, like any step: audited, earlier steps undone.
    private static PlanStep Bind(PlanInterpreter? interpreter, PlanStep step, RunBindings bindings)
    {
        try
        {
            return PlanInterpreter.BindStep(interpreter, step, bindings);
        }
        catch (Exception e) when (e is CesoException or NotSupportedException)
        {
            return step with { Action = null, UndoAction = null, PerRun = null, Execute = _ => Task.FromException(e), ExecuteWithProgress = null, ExecuteWithStatus = null };
        }
    }

    /// <summary>What one run of a plan has done so far.</summary>
    private sealed class RunState(Plan plan, HashSet<string> completed)
    {
        public Plan Plan { get; } = plan;

        public Stack<PlanStep> Done { get; } = new();

        /// <summary>Titles of the changes that completed (the run's bindings, which <c>IfCompleted</c> actions read).</summary>
        public HashSet<string> Completed { get; } = completed;

        /// <summary>Titles of the changes that started (completed, failed or cancelled while they ran).</summary>
        public HashSet<string> Started { get; } = new(StringComparer.Ordinal);

        /// <summary>Titles of the changes whose cleanup released them without error.</summary>
        public HashSet<string> ReleasedOk { get; } = new(StringComparer.Ordinal);

        public IProgress<PlanProgress>? Progress { get; init; }

        /// <summary>Titles of changes that a cleanup releases (not undone on failure: the cleanup does it).</summary>
        public HashSet<string> Released { get; } = plan.Steps.Where(s => s.Kind == StepKind.Cleanup && s.Releases is not null).Select(s => s.Releases!).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>A step failed; carries the step as it ran (the SSH twin, when the host refused the API call).</summary>
    private sealed class StepFailedException(PlanStep step, Exception inner) : Exception(inner.Message, inner)
    {
        public PlanStep Step { get; } = step;
    }

    /// <summary>
    /// Runs the cleanups whose change started (in plan order), even after Ctrl+C: a snapshot or lock left behind is worse
    /// than a late stop. A change that failed or was cancelled may have been done by the host all the same, so its
    /// cleanup runs too and finds out what is there. A cleanup whose <see cref="PlanStep.After"/> failed does not run.
    /// Returns what each failed or skipped cleanup leaves on the host and how to remove it.
    /// </summary>
    private async Task<List<string>> CleanUpAsync(RunState run)
    {
        var left = new List<string>();
        var failed = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < run.Plan.Steps.Count; i++)
        {
            var step = run.Plan.Steps[i];
            if (step.Kind != StepKind.Cleanup || (step.Releases is { } holder && !run.Started.Contains(holder)))
            {
                continue;
            }

            if (step.After is { } after && failed.Contains(after))
            {
                failed.Add(step.Title);
                Audit(Record(run.Plan, step, "cleanup-skipped", $"'{after}' failed", 0));
                left.Add($"{redactor.Redact(step.Title)} did not run because '{redactor.Redact(after)}' failed, so what it releases may still be in use" +
                    $"{(step.Leaves is null ? "" : $"; left on the host: {redactor.Redact(step.Leaves)}")}. Once '{redactor.Redact(after)}' is done by hand, do it with: {Show(step)}");
                continue;
            }

            var title = redactor.Redact(step.Title);
            run.Progress?.Report(new PlanProgress(i + 1, run.Plan.Steps.Count, title));
            using var cts = new CancellationTokenSource(step.Bound ?? TimeSpan.FromMinutes(10));
            try
            {
                await RunAsync(run.Plan, step, cts.Token, StepProgress(run.Progress, i, run.Plan.Steps.Count, title), "cleanup-failed").ConfigureAwait(false);
                if (step.Releases is { } released)
                {
                    run.ReleasedOk.Add(released);
                }
            }
            catch (StepFailedException e)
            {
                failed.Add(step.Title);
                var why = e.InnerException is OperationCanceledException && cts.IsCancellationRequested
                    ? $"it did not finish within {Describe(step.Bound ?? TimeSpan.FromMinutes(10))}"
                    : redactor.Redact(e.InnerException!.Message);
                left.Add($"{title} failed ({why}); do it by hand with: {Show(e.Step)}");
            }
        }

        return left;
    }

    private static string Describe(TimeSpan t) =>
        t >= TimeSpan.FromMinutes(1) ? $"{t.TotalMinutes:0} minutes" : $"{t.TotalSeconds:0.#} s";

    private static IProgress<StepStatus>? StepProgress(IProgress<PlanProgress>? progress, int index, int count, string title) =>
        progress is null ? null : new InlineProgress<StepStatus>(s => progress.Report(new PlanProgress(index + 1, count, title, Math.Clamp(s.Percent, 0, 100), s.Detail)));

    /// <summary>Runs a step and audits it as it ran; returns the step as it ran, or throws <see cref="StepFailedException"/> with it.</summary>
    private async Task<PlanStep> RunAsync(Plan plan, PlanStep step, CancellationToken ct, IProgress<StepStatus>? stepProgress, string failedResult)
    {
        var sw = Stopwatch.StartNew();
        try
        {
            if (stepProgress is not null && step.ExecuteWithStatus is { } withStatus)
            {
                await withStatus(stepProgress, ct).ConfigureAwait(false);
            }
            else if (stepProgress is not null && step.ExecuteWithProgress is { } withProgress)
            {
                await withProgress(new InlineProgress<int>(p => stepProgress.Report(new StepStatus(p, null))), ct).ConfigureAwait(false);
            }
            else
            {
                await (step.Execute ?? throw new InvalidOperationException($"The step '{step.Title}' has nothing to run."))(ct).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            var failed = AsRan(plan, step, step.Ran);
            Audit(Record(plan, failed, e is OperationCanceledException ? "cancelled" : failedResult, e.Message, sw.ElapsedMilliseconds));
            throw new StepFailedException(failed, e);
        }

        var ran = AsRan(plan, step, step.Ran);
        Audit(Record(plan, ran, "ok", null, sw.ElapsedMilliseconds));
        return ran;
    }

    /// <summary>
    /// The step as it ran (what <paramref name="report"/> says was sent), after recording the call the host refused
    /// first, if any, as <c>failed</c>. A step that ran its twin no longer shows the twin as its fallback.
    /// </summary>
    private PlanStep AsRan(Plan plan, PlanStep step, Func<Hosts.HostCallRun>? report)
    {
        if (report?.Invoke() is not { } ran)
        {
            return step;
        }

        if (ran.Refused is { } refused)
        {
            Audit(Record(plan, step with { Transport = refused.Transport, Command = refused.Command }, "failed", ran.RefusedBecause, 0));
        }

        return step with { Transport = ran.Transport, Command = ran.Command, FallbackCommand = ran.Transport == step.Transport ? step.FallbackCommand : null };
    }

    private async Task<PlanFailedException> FailAsync(RunState run, PlanStep failed, Exception error, bool started)
    {
        var plan = run.Plan;
        var undone = new List<string>();
        var undoneTitles = new HashSet<string>(StringComparer.Ordinal);
        var left = new List<string>();
        while (run.Done.TryPop(out var step))
        {
            if (run.Released.Contains(step.Title))
            {
                continue; // a cleanup releases it below
            }

            // A change being undone no longer counts as completed: a cleanup guarded by it (IfCompleted) does not run,
            // also when the undo fails (what the guard protects may be in any state then).
            run.Completed.Remove(step.Title);
            if (step.Undo is null)
            {
                // Every step changes the host (plans read while they are built, never in a step).
                left.Add($"{redactor.Redact(step.Title)} (no undo: {Show(step)})");
                continue;
            }

            var sw = Stopwatch.StartNew();
            var undoStep = step with { Command = step.UndoCommand ?? "undo: " + step.Command, FallbackCommand = null };
            var bound = step.UndoBound ?? TimeSpan.FromMinutes(10);
            using var cts = new CancellationTokenSource(bound);
            try
            {
                // Undo runs even when the user cancelled: leaving half an operation behind is worse.
                await step.Undo(cts.Token).ConfigureAwait(false);
                undoStep = AsRan(plan, undoStep, step.UndoRan);
                Audit(Record(plan, undoStep, "undone", null, sw.ElapsedMilliseconds));
                undone.Add(redactor.Redact(step.Title));
                undoneTitles.Add(step.Title);
            }
            catch (Exception e)
            {
                undoStep = AsRan(plan, undoStep, step.UndoRan);
                var why = e is OperationCanceledException && cts.IsCancellationRequested ? $"it did not finish within {Describe(bound)}" : e.Message;
                Audit(Record(plan, undoStep, "undo-failed", why, sw.ElapsedMilliseconds));
                left.Add($"{redactor.Redact(step.Title)}: undo failed ({redactor.Redact(why)}); remove it by hand with: {Show(undoStep)}");
            }
        }

        left.AddRange(await CleanUpAsync(run).ConfigureAwait(false));

        // A step that may have run halfway is no longer in doubt when the undo of the step it lies inside succeeded,
        // or when the cleanup that releases it (and finds out what is there) succeeded.
        var removedWith = (failed.Inside is { } inside && undoneTitles.Contains(inside)) || run.ReleasedOk.Contains(failed.Title);
        var outcome = new FailedStepOutcome(started && !removedWith && MayHaveTakenEffect(error), Show(failed));
        return new PlanFailedException(plan, redactor.Redact(failed.Title), redactor.Redact(error.Message), undone, left, error, outcome);
    }

    // A broken connection or a timeout while the step ran, or a cancellation in the middle of it, leaves its outcome unknown.
    private static bool MayHaveTakenEffect(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e is CesoException { MayHaveTakenEffect: true } or OperationCanceledException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Records that could not be written to the audit log (the file stayed locked or the disk is full). A change that
    /// ran is never undone or misreported because its record could not be written; the caller shows these instead.
    /// </summary>
    public IReadOnlyList<string> AuditFailures => _auditFailures;

    private readonly List<string> _auditFailures = [];

    private void Audit(AuditRecord record)
    {
        try
        {
            audit.Append(record);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            lock (_auditFailures)
            {
                _auditFailures.Add($"{record.Result} {redactor.Redact(record.Command)}: {e.Message}");
            }
        }
    }

    private AuditRecord Record(Plan plan, PlanStep step, string result, string? error, long ms) =>
        Record(plan, step.Transport, step.Command, result, error, ms);

    private AuditRecord Record(Plan plan, string transport, string command, string result, string? error, long ms) => new()
    {
        Operator = actor.Operator,
        Agent = actor.Agent,
        SshCertificate = actor.SshCertificate,
        Operation = plan.Operation,
        Host = plan.Host,
        Vm = plan.Vm,
        Plan = PlanDigest.Of(plan),
        Transport = transport,
        Command = command,
        Result = result,
        Error = error,
        DurationMs = ms,
    };
}
