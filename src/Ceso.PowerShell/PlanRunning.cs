using System.Diagnostics;
using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.Connection;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;
using Ceso.Engine.Security;

namespace Ceso.PowerShell;

/// <summary>How <see cref="CesoCmdlet.RunPlan{T}"/> ended.</summary>
public enum PlanOutcome
{
    /// <summary>Building or executing the plan failed; an error was written.</summary>
    Failed,

    /// <summary>-WhatIf: the preview was recorded and nothing ran.</summary>
    Previewed,

    /// <summary>A step was declined at -Confirm: recorded as declined, nothing ran.</summary>
    Declined,

    /// <summary>The plan had no steps (the VM already is as asked).</summary>
    NothingToDo,

    /// <summary>Every step ran.</summary>
    Executed,
}

/// <summary>The one way a cmdlet runs an engine plan: build (reads only), ShouldProcess per step, then execute or preview.</summary>
public abstract partial class CesoCmdlet
{
    private int _activities;

    /// <summary>
    /// A progress activity id unique within this pipeline (each cmdlet of a pipeline has its own range), so nested
    /// and consecutive bars of several Ceso cmdlets never overwrite each other.
    /// </summary>
    protected int NextActivityId() => (MyInvocation.PipelinePosition * 1000) + ++_activities;

    /// <summary>The VM operations of a session; when the session cannot write (no transport), writes the error and returns null.</summary>
    protected VmOperations? OpenVmOperations(CesoSession session, object? target)
    {
        try
        {
            return new VmOperations(session, Home);
        }
        catch (CesoException e)
        {
            WriteEngineError(e, target);
            return null;
        }
    }

    /// <summary>
    /// The session for a VM: <paramref name="server"/> when given, else the server a piped VM object came from, else the
    /// default session. See <see cref="ResolveServer(ServerIdentity?)"/>.
    /// </summary>
    protected CesoSession? ResolveServer(ServerIdentity? server, VmIdentity vm) =>
        ResolveServer(server ?? (vm.Server is { Length: > 0 } s ? new ServerIdentity(s) : null));

    /// <summary>
    /// Builds a plan through the bridge (the engine only reads), asks ShouldProcess for every step with the exact host
    /// command as the action (so -WhatIf prints each command, secrets masked), and runs the plan only when every step
    /// was approved. Under -WhatIf, or when any step is declined, the preview is recorded in the audit log and
    /// nothing runs. Plan notes (defaults chosen for the user) are written to the information stream, tagged
    /// <c>PlanNote</c>. A failed step is one non-terminating error whose message says what was undone and what is left.
    /// </summary>
    /// <param name="session">The session the plan is for; its API password is masked in everything shown or logged.</param>
    /// <param name="target">The input (the error records' TargetObject).</param>
    /// <param name="build">The engine call that plans; it must not change the host.</param>
    /// <param name="subject">What the planner returned alongside the plan (the VM), when it planned.</param>
    /// <param name="parentActivityId">Progress activity to nest under; -1 for none.</param>
    /// <param name="secrets">More secrets to mask (a repository password), besides the session's.</param>
    protected PlanOutcome RunPlan<T>(CesoSession session, object? target, Func<CancellationToken, Task<(Plan Plan, T Subject)>> build,
        out T? subject, int parentActivityId = -1, IEnumerable<string?>? secrets = null)
    {
        subject = default;
        if (!TryRunEngine(build, target, out var built))
        {
            return PlanOutcome.Failed;
        }

        var (plan, planned) = built;
        subject = planned;
        _lastResult = null;
        var outcome = RunBuiltPlan(plan, target, () =>
        {
            var runner = PlanRunner.Open(Home, session, CurrentActor());
            foreach (var secret in secrets ?? [])
            {
                runner.Redactor.Add(secret);
            }

            return runner;
        }, parentActivityId);
        // A VM the plan registered: its id is what the run learnt (the plan itself keeps none).
        if (planned is VmRef vm && _lastResult?.IdOf(vm) is { } id && id != vm.Id)
        {
            subject = (T)(object)(vm with { Id = id });
        }

        return outcome;
    }

    private PlanResult? _lastResult;

    /// <summary>
    /// Runs a plan that changes no host (a backup repository's): the same approval, preview, audit and progress as
    /// <see cref="RunPlan{T}"/>, with a runner that masks <paramref name="secrets"/> (there is no session password).
    /// </summary>
    protected PlanOutcome RunLocalPlan(Plan plan, object? target, IEnumerable<string?>? secrets = null, int parentActivityId = -1) =>
        RunBuiltPlan(plan, target, () =>
        {
            var redactor = new Redactor();
            foreach (var secret in secrets ?? [])
            {
                redactor.Add(secret);
            }

            return PlanRunner.Open(Home, redactor, CurrentActor());
        }, parentActivityId);

    private PlanOutcome RunBuiltPlan(Plan plan, object? target, Func<PlanRunner> open, int parentActivityId)
    {
        PlanRunner runner;
        var home = Home;
        try
        {
            runner = open();
        }
        catch (CesoException e)
        {
            WriteEngineError(e, target);
            return PlanOutcome.Failed;
        }

        var what = $"{plan.Operation}{(plan.Vm is null ? "" : $" of '{plan.Vm}'")} on {plan.Host}";
        foreach (var note in plan.Notes)
        {
            WriteInformation("Note: " + runner.Redactor.Redact(note), ["Ceso", "PlanNote"]);
        }

        if (plan.Steps.Count == 0)
        {
            WriteVerbose($"{what}: nothing to do.");
            return PlanOutcome.NothingToDo;
        }

        WriteVerbose($"{what}: {plan.Steps.Count} step(s), plan {PlanRunner.Digest(plan)}.");
        // -WhatIf offers every step (the preview shows the whole plan); a decline at -Confirm stops asking and runs none.
        var decision = runner.Approve(plan, step => Ask(step.Target, runner.Show(step)));
        if (decision != PlanDecision.Run)
        {
            var recorded = decision == PlanDecision.Declined ? "The decline" : "The preview";
            foreach (var failure in runner.AuditFailures)
            {
                WriteWarning($"{recorded} of {what} could not be recorded in the audit log ({home.Path}): {failure}");
            }

            if (decision == PlanDecision.Previewed)
            {
                // Shown with the What-if lines: the digest a later approval of exactly this plan can name.
                WriteInformation(new HostInformationMessage { Message = $"What if: plan {PlanRunner.Digest(plan)} ({what}, {plan.Steps.Count} step(s))" }, ["PSHOST", "Ceso", "PlanDigest"]);
            }

            WriteVerbose($"{what}: nothing was changed{(decision == PlanDecision.Declined ? " (declined)" : "")}.");
            return decision == PlanDecision.Declined ? PlanOutcome.Declined : PlanOutcome.Previewed;
        }

        var activityId = NextActivityId();
        var stepActivityId = NextActivityId();
        var sinceReport = new Stopwatch();
        var lastStep = 0;
        void Report(PlanProgress p)
        {
            // About one update a second, so a fast plan does not flood the host UI; a new step always shows.
            if (p.Step == lastStep && sinceReport.IsRunning && sinceReport.Elapsed < TimeSpan.FromSeconds(1))
            {
                return;
            }

            sinceReport.Restart();
            lastStep = p.Step;
            WriteProgress(new ProgressRecord(activityId, what, $"Step {p.Step} of {p.Count}: {p.Title}")
            {
                PercentComplete = (p.Step - 1) * 100 / p.Count,
                ParentActivityId = parentActivityId,
            });
            if (p.StepPercent is { } percent)
            {
                // A long step (a disk copy) gets its own bar under the plan's.
                WriteProgress(new ProgressRecord(stepActivityId, p.Title, p.StepDetail ?? $"{percent}% done")
                {
                    PercentComplete = percent,
                    ParentActivityId = activityId,
                    RecordType = percent >= 100 ? ProgressRecordType.Completed : ProgressRecordType.Processing,
                });
            }
        }

        try
        {
            var progress = OnPipeline<PlanProgress>(Report);
            if (!TryRunEngine(ct => runner.RunAsync(plan, progress, ct), target, out var result))
            {
                return PlanOutcome.Failed;
            }

            _lastResult = result;

            foreach (var warning in result!.Warnings)
            {
                WriteWarning($"{what} is done, but a cleanup failed; LEFT ON THE HOST: {warning}");
            }
        }
        finally
        {
            foreach (var failure in runner.AuditFailures)
            {
                WriteWarning($"Not recorded in the audit log ({home.Path}): {failure}");
            }

            WriteProgress(new ProgressRecord(stepActivityId, what, "Done") { RecordType = ProgressRecordType.Completed, ParentActivityId = activityId });
            WriteProgress(new ProgressRecord(activityId, what, "Done") { RecordType = ProgressRecordType.Completed, ParentActivityId = parentActivityId });
        }

        WriteVerbose($"{what}: done.");
        return PlanOutcome.Executed;
    }

    /// <summary>
    /// ShouldProcess for one step, with the same texts as ShouldProcess(target, action), telling a -WhatIf from a decline.
    /// </summary>
    private StepAnswer Ask(string target, string action)
    {
        var operation = $"Performing the operation \"{action}\" on target \"{target}\".";
        if (ShouldProcess(operation, "Are you sure you want to perform this action?\n" + operation, "Confirm", out var reason))
        {
            return StepAnswer.Approved;
        }

        return reason == ShouldProcessReason.WhatIf ? StepAnswer.WhatIf : StepAnswer.Declined;
    }

    /// <summary>Who the audit records name: the OS user, and the AI agent when CESO_AGENT names one (read here, at the edge, never in the engine).</summary>
    protected static AuditActor CurrentActor() =>
        new(Environment.UserName, Environment.GetEnvironmentVariable("CESO_AGENT") is { Length: > 0 } agent ? agent : null);

    /// <summary>
    /// Ends the cmdlet with <c>AgentCannotManageAccounts</c> (SecurityError) in an agent session: creating or removing
    /// an agent's account on a host is a person's decision (the plan runner refuses those plans for agents too).
    /// </summary>
    protected void RefuseAgentSession(string cmdlet)
    {
        if (CurrentActor().Agent is { } agent)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(new CesoException("AgentCannotManageAccounts", CesoErrorKind.Security,
                $"This session is driven by agent '{agent}' (CESO_AGENT is set), and agents never create or remove agent accounts: a person runs {cmdlet} in a session without CESO_AGENT."), agent));
        }
    }

    /// <summary>
    /// For a change a cmdlet makes without a plan of its own (a configuration entry): asks the agent policy, as the plan
    /// runner does for plans, with the change described as a one-step local plan. False (the error written, the refusal
    /// in the audit log) when an agent drives and no grant allows it.
    /// </summary>
    protected bool AuthorizeLocalChange(string operation, string target, string command, object? errorTarget)
    {
        if (CurrentActor().Agent is null)
        {
            return true;
        }

        var plan = new Plan
        {
            Operation = operation,
            Host = "local",
            Steps = [new PlanStep { Title = command, Target = target, Transport = "local", Command = command, Execute = _ => Task.CompletedTask }],
        };
        try
        {
            PlanRunner.Open(Home, new Redactor(), CurrentActor()).Authorize(plan);
            return true;
        }
        catch (CesoException e)
        {
            WriteEngineError(e, errorTarget);
            return false;
        }
    }

    /// <summary>
    /// The per-VM body of the lifecycle cmdlets (power, remove, protect): resolve the session, plan, run, and with
    /// <paramref name="passThru"/> write the VM as it is afterwards (also when there was nothing to do).
    /// </summary>
    protected void RunVmPlan(VmIdentity vm, ServerIdentity? server, Func<VmOperations, CancellationToken, Task<(Plan Plan, CesoVm Vm)>> build, bool passThru)
    {
        if (ResolveServer(server, vm) is not { } session || OpenVmOperations(session, vm) is not { } ops)
        {
            return;
        }

        var outcome = RunPlan(session, vm, ct => build(ops, ct), out var planned);
        if (passThru && outcome is PlanOutcome.Executed or PlanOutcome.NothingToDo)
        {
            WriteRefreshed(ops, planned?.Id ?? vm.Name, vm);
        }
    }

    /// <summary>Reads a VM again and writes it; a VM that is gone is a warning (it was just changed by this cmdlet).</summary>
    protected CesoVm? WriteRefreshed(VmOperations ops, string nameOrId, object? target)
    {
        if (!TryRunEngine(ct => ops.RefreshAsync(nameOrId, ct), target, out var vm))
        {
            return null;
        }

        if (vm is null)
        {
            WriteWarning($"'{target}' was changed, but the host no longer lists it; run Get-CesoVm to see the host's inventory.");
            return null;
        }

        WriteObject(vm);
        return vm;
    }

    /// <summary>
    /// Waits (in the engine) until VMware Tools report an IP address or <paramref name="timeout"/> passes, with a
    /// progress bar; returns the VM as last read (null when it could not be read). A timeout is a non-terminating
    /// <c>IpWaitTimeout</c> error and still returns the VM as last seen.
    /// </summary>
    protected CesoVm? WaitForIpAddress(VmOperations ops, string name, TimeSpan timeout, object? target)
    {
        var activityId = NextActivityId();
        var activity = $"Waiting for an IP address of '{name}'";
        var progress = OnPipeline<IpWaitProgress>(p => WriteProgress(new ProgressRecord(activityId, activity, $"{p.Vm.PowerState}, tools {p.Vm.ToolsStatus}")
        {
            PercentComplete = (int)Math.Min(99, p.Elapsed.TotalSeconds * 100 / p.Timeout.TotalSeconds),
            SecondsRemaining = (int)Math.Max(0, (p.Timeout - p.Elapsed).TotalSeconds),
        }));
        try
        {
            return RunEngine(ct => ops.WaitForIpAsync(name, timeout, progress, ct));
        }
        catch (IpWaitTimeoutException e)
        {
            WriteEngineError(e, target);
            return e.LastSeen;
        }
        catch (Exception e) when (ErrorMapper.IsEngineError(e))
        {
            WriteEngineError(e, target);
            return null;
        }
        finally
        {
            WriteProgress(new ProgressRecord(activityId, activity, "Done") { RecordType = ProgressRecordType.Completed });
        }
    }
}
