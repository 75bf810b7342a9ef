using Ceso.Engine.Planning.Actions;

namespace Ceso.Engine.Planning;

/// <summary>
/// One step of a plan: what it does, described exactly (the SSH command line as sent, or the SOAP method with its
/// arguments), how to run it, and how to undo it when a later step fails. Secrets in <see cref="Command"/> are
/// masked by the executor before anything shows or logs it.
/// </summary>
public sealed record PlanStep
{
    /// <summary>Short title for progress and confirmation ("Copy disk 'web01.vmdk' thin").</summary>
    public required string Title { get; init; }

    /// <summary>What the step acts on, e.g. "esx01/web01" (the ShouldProcess target).</summary>
    public required string Target { get; init; }

    /// <summary>ssh, soap or local.</summary>
    public required string Transport { get; init; }

    /// <summary>The exact command or call (ShouldProcess action, -WhatIf text, audit record).</summary>
    public required string Command { get; init; }

    /// <summary>
    /// The command that runs instead when the host refuses <see cref="Command"/> (a free license refusing the API's
    /// writes: the SSH twin), shown with it by -WhatIf; null when there is none. Which one runs is the host
    /// adapter's business (<see cref="Hosts.FallbackHostCommands"/>), not the executor's.
    /// </summary>
    public string? FallbackCommand { get; init; }

    /// <summary>
    /// After the step ran (or failed): what it sent — transport and command with ids learnt on the way filled in, and
    /// a call the host refused first — for the audit log; null = <see cref="Transport"/> and <see cref="Command"/>.
    /// </summary>
    public Func<Hosts.HostCallRun>? Ran { get; init; }

    /// <summary>
    /// What the step does, as data (a kind with typed arguments), when it is a host change: the plan's
    /// <see cref="Plan.Interpreter"/> runs it, and <see cref="Command"/> is its rendering. Null for a step that is code
    /// (a local change, a stream into a backup repository), which sets <see cref="Execute"/>.
    /// </summary>
    public StepAction? Action { get; init; }

    /// <summary>The undo of <see cref="Action"/>, as data; null when there is none or the step is code (<see cref="Undo"/>).</summary>
    public StepAction? UndoAction { get; init; }

    /// <summary>
    /// For a code step that needs what the run learns (the id of the VM an earlier step registered): makes the step for
    /// one run from that run's <see cref="RunBindings"/>; the step as planned is only shown. Null for other steps.
    /// </summary>
    public Func<RunBindings, PlanStep>? PerRun { get; init; }

    /// <summary>Runs the step (a code step; for a data step the interpreter sets it when the run starts).</summary>
    public Func<CancellationToken, Task>? Execute { get; init; }

    /// <summary>Runs the step reporting percent done (long disk copies); null when the step cannot tell.</summary>
    public Func<IProgress<int>, CancellationToken, Task>? ExecuteWithProgress { get; init; }

    /// <summary>
    /// Runs the step reporting percent done and a line of detail (a backup's bytes read, sent and new); preferred over
    /// <see cref="ExecuteWithProgress"/> when both are set; null when the step has no detail to tell.
    /// </summary>
    public Func<IProgress<StepStatus>, CancellationToken, Task>? ExecuteWithStatus { get; init; }

    /// <summary>Describes the undo, when there is one.</summary>
    public string? UndoCommand { get; init; }

    /// <summary>Undoes the step, when it can be undone.</summary>
    public Func<CancellationToken, Task>? Undo { get; init; }

    /// <summary>
    /// How long the undo may take before it is given up and reported as left (deleting a folder of large disks grows
    /// with them); null = 10 minutes. The undo runs even after Ctrl+C, so it must end on its own.
    /// </summary>
    public TimeSpan? UndoBound { get; init; }

    /// <summary>After the undo ran (or failed): what it sent, as <see cref="Ran"/>; null = the step's transport and <see cref="UndoCommand"/>.</summary>
    public Func<Hosts.HostCallRun>? UndoRan { get; init; }

    /// <summary>
    /// The title of an earlier step whose undo removes whatever this step leaves, even half done (a disk copied into the
    /// folder that step created); null when there is none. A failed step whose outcome is unknown is then known to be
    /// gone once that step was undone.
    /// </summary>
    public string? Inside { get; init; }

    /// <summary>Decisions this step carries out for the user (a defaulted gateway), shown with its command in -WhatIf.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>What the step uploads (a .vmx), whose hash the plan's digest covers; the command shows only a placeholder.</summary>
    public string? Payload { get; init; }

    /// <summary>A change (undone when a later step fails) or a cleanup (runs after the changes, whatever happened).</summary>
    public StepKind Kind { get; init; } = StepKind.Change;

    /// <summary>
    /// For a cleanup: the title of the change step whose hold it releases (a snapshot, a lock). It runs when that step
    /// started — also when it failed or was cancelled, since the host may have done it all the same, so the cleanup
    /// must find out what is there (a snapshot by its unique name, a lock this run made) and release only that — and
    /// that step is then not undone on failure: the cleanup releases it. Null: it always runs.
    /// </summary>
    public string? Releases { get; init; }

    /// <summary>
    /// For a cleanup: the title of an earlier cleanup that must not have failed for this one to run (the unlock waits
    /// on the snapshot's removal: while hostd may still consolidate, no other hot copy may start). When that one
    /// failed, this one does not run and the warning names <see cref="Leaves"/> and this step's command. Null: none.
    /// </summary>
    public string? After { get; init; }

    /// <summary>For a cleanup: what stays on the host when it does not run ("the lock folder [ds] vm/.ceso-hot-copy.lock").</summary>
    public string? Leaves { get; init; }

    /// <summary>
    /// For a cleanup: how long it may take before it is given up (a snapshot's consolidation grows with the disks);
    /// null = 10 minutes.
    /// </summary>
    public TimeSpan? Bound { get; init; }
}

/// <summary>What a step is to the executor.</summary>
public enum StepKind
{
    /// <summary>Changes the host; undone in reverse when a later change fails.</summary>
    Change,

    /// <summary>
    /// Releases what a change holds (a snapshot, a lock) after the changes ran, after success, failure and Ctrl+C
    /// alike. Its failure is a warning naming what is left; it never undoes finished work.
    /// </summary>
    Cleanup,
}

/// <summary>How a plan that ran ended.</summary>
/// <param name="Warnings">Cleanups that failed: what is left on the host and how to remove it (the work itself is done).</param>
/// <param name="Run">What the run learnt (the ids of the VMs it registered).</param>
public sealed record PlanResult(IReadOnlyList<string> Warnings, RunBindings? Run = null)
{
    /// <summary>The vmid of <paramref name="vm"/> after the run: learnt by registering it, or known before.</summary>
    public string? IdOf(VmRef vm) => Run?.IdOf(vm) ?? vm.Id;
}

/// <summary>An operation as an ordered list of steps, built before anything runs; -WhatIf renders it, the real run executes it.</summary>
public sealed record Plan
{
    /// <summary>The operation (CreateVm, CloneVm, …).</summary>
    public required string Operation { get; init; }

    /// <summary>The host.</summary>
    public required string Host { get; init; }

    /// <summary>The VM the plan is about.</summary>
    public string? Vm { get; init; }

    /// <summary>The steps, in order.</summary>
    public required IReadOnlyList<PlanStep> Steps { get; init; }

    /// <summary>Decisions taken for the user that -WhatIf should show ("gateway defaults to 10.0.0.1").</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>
    /// What runs the data steps (<see cref="PlanStep.Action"/>): the session's host adapter the plan was made for. Not
    /// part of the plan's digest (the actions and their texts are); null for a plan of code steps only.
    /// </summary>
    public PlanInterpreter? Interpreter { get; init; }
}

/// <summary>Progress of a running plan.</summary>
/// <param name="Step">1-based number of the step.</param>
/// <param name="Count">Number of steps.</param>
/// <param name="Title">Title of the step.</param>
/// <param name="StepPercent">How far the step itself is, when it can tell (a disk copy); null at its start.</param>
/// <param name="StepDetail">A line about the step's own progress ("1.2 of 4.0 GiB read, 80 MiB new"), when it tells one.</param>
public sealed record PlanProgress(int Step, int Count, string Title, int? StepPercent = null, string? StepDetail = null);

/// <summary>How far a long step is.</summary>
/// <param name="Percent">0–100.</param>
/// <param name="Detail">What it has done so far, in a few words.</param>
public sealed record StepStatus(int Percent, string? Detail);
