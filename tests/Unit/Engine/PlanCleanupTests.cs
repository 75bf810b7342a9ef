using Ceso.Engine.Planning;
using Ceso.Engine.Security;

namespace Ceso.Tests.Engine;

/// <summary>Cleanup steps: when they run, what they wait on, how long they may take.</summary>
public sealed class PlanCleanupTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ceso-cleanup-").FullName;
    private readonly Redactor _redactor = new();
    private readonly AuditLog _audit;

    public PlanCleanupTests() => _audit = new AuditLog(Path.Combine(_dir, "audit.jsonl"), _redactor);

    public void Dispose() => Directory.Delete(_dir, true);

    private PlanExecutor Executor => new(_audit, _redactor, new AuditActor("tester", null));

    private static PlanStep Step(string name, List<string> log, Func<CancellationToken, Task>? run = null) => new()
    {
        Title = name,
        Target = "esx/vm",
        Transport = "ssh",
        Command = "do " + name,
        Execute = run ?? (_ =>
        {
            log.Add("do " + name);
            return Task.CompletedTask;
        }),
        UndoCommand = "undo " + name,
        Undo = _ =>
        {
            log.Add("undo " + name);
            return Task.CompletedTask;
        },
    };

    private static PlanStep Cleanup(string name, string releases, List<string> log, Func<CancellationToken, Task>? run = null) =>
        Step(name, log, run) with { Kind = StepKind.Cleanup, Releases = releases, Undo = null, UndoCommand = null };

    [Fact]
    public async Task A_cleanup_runs_when_its_step_started_even_if_that_step_failed()
    {
        // The host may have made the snapshot although the call failed (cut off, cancelled): the cleanup must look.
        var log = new List<string>();
        var plan = new Plan
        {
            Operation = "CloneVm", Host = "esx",
            Steps =
            [
                Step("lock", log),
                Step("snapshot", log, _ => throw new TimeoutException("cut off")),
                Step("copy", log),
                Cleanup("remove snapshot", "snapshot", log),
                Cleanup("unlock", "lock", log),
            ],
        };

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => Executor.ExecuteAsync(plan));

        Assert.Equal(["do lock", "do remove snapshot", "do unlock"], log);
        Assert.Empty(e.Left);
    }

    [Fact]
    public async Task A_cleanup_whose_step_never_started_does_not_run()
    {
        var log = new List<string>();
        using var cts = new CancellationTokenSource();
        var plan = new Plan
        {
            Operation = "CloneVm", Host = "esx",
            Steps =
            [
                Step("lock", log, _ =>
                {
                    log.Add("do lock");
                    cts.Cancel(); // Ctrl+C while the lock is taken: the snapshot step never starts
                    return Task.CompletedTask;
                }),
                Step("snapshot", log),
                Cleanup("remove snapshot", "snapshot", log),
                Cleanup("unlock", "lock", log),
            ],
        };

        await Assert.ThrowsAsync<PlanFailedException>(() => Executor.ExecuteAsync(plan, null, cts.Token));

        Assert.Equal(["do lock", "do unlock"], log);
    }

    [Fact]
    public async Task A_cleanup_that_waits_on_a_failed_one_does_not_run_and_the_warning_says_what_is_left_and_how_to_remove_it()
    {
        var log = new List<string>();
        var plan = new Plan
        {
            Operation = "CloneVm", Host = "esx",
            Steps =
            [
                Step("lock", log),
                Step("snapshot", log),
                Step("copy", log),
                Cleanup("remove snapshot", "snapshot", log, _ => throw new IOException("consolidation failed")),
                Cleanup("unlock", "lock", log) with { After = "remove snapshot", Leaves = "the lock folder [ds] vm/.ceso-hot-copy.lock", Command = "rm -rf /vmfs/volumes/ds/vm/.ceso-hot-copy.lock" },
            ],
        };

        var result = await Executor.ExecuteAsync(plan);

        Assert.Equal(["do lock", "do snapshot", "do copy"], log); // the copy stays, the lock too
        Assert.Equal(2, result.Warnings.Count);
        Assert.StartsWith("remove snapshot failed (consolidation failed)", result.Warnings[0]);
        Assert.StartsWith("unlock did not run because 'remove snapshot' failed", result.Warnings[1]);
        Assert.Contains("the lock folder [ds] vm/.ceso-hot-copy.lock", result.Warnings[1]);
        Assert.Contains("rm -rf /vmfs/volumes/ds/vm/.ceso-hot-copy.lock", result.Warnings[1]);
        Assert.Contains(_audit.Read(), r => r.Result == "cleanup-skipped");
    }

    [Fact]
    public async Task A_cleanup_that_waits_on_one_that_succeeded_runs()
    {
        var log = new List<string>();
        var plan = new Plan
        {
            Operation = "CloneVm", Host = "esx",
            Steps =
            [
                Step("lock", log),
                Step("snapshot", log, _ => throw new InvalidOperationException("snapshot refused")),
                Cleanup("remove snapshot", "snapshot", log),
                Cleanup("unlock", "lock", log) with { After = "remove snapshot" },
            ],
        };

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => Executor.ExecuteAsync(plan));

        Assert.Equal(["do lock", "do remove snapshot", "do unlock"], log);
        Assert.Empty(e.Left);
    }

    [Fact]
    public async Task A_cleanup_has_its_own_bound_instead_of_the_default_and_reports_progress()
    {
        var log = new List<string>();
        var seen = new List<PlanProgress>();
        var slow = Cleanup("remove snapshot", "snapshot", log, async ct => await Task.Delay(TimeSpan.FromSeconds(30), ct)) with { Bound = TimeSpan.FromMilliseconds(200) };
        var reporting = Cleanup("unlock", "lock", log) with
        {
            ExecuteWithProgress = (p, _) =>
            {
                p.Report(50);
                return Task.CompletedTask;
            },
        };
        var plan = new Plan { Operation = "CloneVm", Host = "esx", Steps = [Step("lock", log), Step("snapshot", log), slow, reporting] };

        var result = await Executor.ExecuteAsync(plan, new InlineProgressForTests(seen.Add)).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal("remove snapshot failed (it did not finish within 0.2 s); do it by hand with: do remove snapshot  (cleanup: runs after the other steps, also when one fails)", Assert.Single(result.Warnings));
        Assert.Contains(seen, p => p.Title == "unlock" && p.StepPercent == 50);
    }

    [Fact]
    public async Task An_undo_has_its_own_bound_and_a_timed_out_undo_is_reported_as_left()
    {
        var log = new List<string>();
        var slowUndo = Step("create folder", log) with
        {
            UndoCommand = "rm -rf folder",
            Undo = async ct => await Task.Delay(TimeSpan.FromSeconds(30), ct),
            UndoBound = TimeSpan.FromMilliseconds(200),
        };
        var failing = Step("copy disk", log) with { Execute = _ => throw new IOException("disk full") };
        var plan = new Plan { Operation = "CloneVm", Host = "esx", Steps = [slowUndo, failing] };

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => Executor.ExecuteAsync(plan)).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal("create folder: undo failed (it did not finish within 0.2 s); remove it by hand with: rm -rf folder", Assert.Single(e.Left));
    }

    [Fact]
    public void A_new_folder_s_undo_bound_grows_with_its_disks() =>
        Assert.Equal(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(200), Ceso.Engine.Operations.OperationContext.FolderUndoBound(100L << 30));

    private sealed class InlineProgressForTests(Action<PlanProgress> report) : IProgress<PlanProgress>
    {
        public void Report(PlanProgress value) => report(value);
    }
}
