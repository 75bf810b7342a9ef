namespace Ceso.Engine.Planning;

/// <summary>The answer to "run this step?" (ShouldProcess and why it said no).</summary>
public enum StepAnswer
{
    /// <summary>Run it.</summary>
    Approved,

    /// <summary>-WhatIf: show it, run nothing.</summary>
    WhatIf,

    /// <summary>Declined at -Confirm.</summary>
    Declined,
}

/// <summary>What <see cref="PlanExecutor.Approve"/> decided.</summary>
public enum PlanDecision
{
    /// <summary>Every step was approved: execute the plan.</summary>
    Run,

    /// <summary>-WhatIf: every step was shown and recorded as a preview; nothing runs.</summary>
    Previewed,

    /// <summary>A step was declined: nothing runs, recorded as declined.</summary>
    Declined,
}

/// <summary>A plan failed; its completed steps were undone (or the message says what is left and how to remove it).</summary>
public sealed class PlanFailedException(Plan plan, string step, string reason, IReadOnlyList<string> undone, IReadOnlyList<string> left, Exception inner,
    FailedStepOutcome outcome = default)
    : CesoException(
        inner is CesoException c ? c.ErrorId : inner is OperationCanceledException ? "OperationCancelled" : "OperationFailed",
        inner is CesoException k ? k.Kind : inner is OperationCanceledException ? CesoErrorKind.Cancelled : CesoErrorKind.HostError,
        Describe(plan, step, reason, undone, left, outcome),
        inner)
{
    /// <summary>The step that failed.</summary>
    public string FailedStep { get; } = step;

    /// <summary>True when the failed step itself may have changed the host (the connection broke or the call timed out, or it was cancelled while it ran).</summary>
    public bool FailedStepMayHaveTakenEffect { get; } = outcome.MayHaveTakenEffect;

    /// <summary>Steps that were undone.</summary>
    public IReadOnlyList<string> Undone { get; } = undone;

    /// <summary>What is left on the host (empty when everything was undone).</summary>
    public IReadOnlyList<string> Left { get; } = left;

    private static string Describe(Plan plan, string step, string reason, IReadOnlyList<string> undone, IReadOnlyList<string> left, FailedStepOutcome outcome)
    {
        var what = $"{plan.Operation}{(plan.Vm is null ? "" : $" of '{plan.Vm}'")} on {plan.Host} failed at step '{step}': {reason}";
        var undo = undone.Count == 0 ? " Nothing had to be undone." : $" Undone: {string.Join("; ", undone)}.";
        var rest = left.Count == 0 ? "" : $" LEFT ON THE HOST: {string.Join("; ", left)}.";
        // Only a step known not to have run (or to have been refused) lets us say the host is unchanged.
        var failed = outcome.MayHaveTakenEffect
            ? $" The failed step may or may not have taken effect, and it was not undone: check the host for it ({outcome.Command}) before retrying."
            : left.Count == 0 ? " The host is as it was before." : "";
        return what + undo + rest + failed;
    }
}

/// <summary>What is known about the failed step itself.</summary>
/// <param name="MayHaveTakenEffect">True when it may have changed the host although it failed.</param>
/// <param name="Command">The step's command as shown (redacted), to check on the host.</param>
public readonly record struct FailedStepOutcome(bool MayHaveTakenEffect, string? Command);

/// <summary>An IProgress that reports on the caller's thread at once (Progress&lt;T&gt; would post to a captured context).</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
