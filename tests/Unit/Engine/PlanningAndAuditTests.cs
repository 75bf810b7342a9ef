using Ceso.Engine;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Planning;
using Ceso.Engine.Security;
using Ceso.Engine.Soap;

namespace Ceso.Tests.Engine;

public sealed class PlanningAndAuditTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ceso-plan-").FullName;
    private readonly Redactor _redactor = new();
    private static readonly AuditActor Actor = new("tester", null);
    private readonly AuditLog _audit;

    public PlanningAndAuditTests() => _audit = new AuditLog(Path.Combine(_dir, "audit.jsonl"), _redactor);

    public void Dispose() => Directory.Delete(_dir, true);

    private static PlanStep Step(string name, List<string> log, bool fail = false, bool undoFails = false, bool undoable = true) => new()
    {
        Title = name,
        Target = "esx/vm",
        Transport = "ssh",
        Command = "do " + name,
        Execute = _ =>
        {
            if (fail)
            {
                throw new InvalidOperationException(name + " broke");
            }

            log.Add("do " + name);
            return Task.CompletedTask;
        },
        UndoCommand = undoable ? "undo " + name : null,
        Undo = undoable ? _ =>
        {
            if (undoFails)
            {
                throw new IOException("cannot undo " + name);
            }

            log.Add("undo " + name);
            return Task.CompletedTask;
        } : null,
    };

    [Fact]
    public async Task A_failing_step_undoes_the_completed_steps_in_reverse_and_says_so()
    {
        var log = new List<string>();
        var plan = new Plan { Operation = "CloneVm", Host = "esx", Vm = "web01", Steps = [Step("a", log), Step("b", log), Step("c", log, fail: true), Step("d", log)] };

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => new PlanExecutor(_audit, _redactor, Actor).ExecuteAsync(plan));

        Assert.Equal(["do a", "do b", "undo b", "undo a"], log);
        Assert.Equal("c", e.FailedStep);
        Assert.Empty(e.Left);
        Assert.Contains("The host is as it was before", e.Message);
        Assert.Equal(["ok", "ok", "failed", "undone", "undone"], _audit.Read().Select(r => r.Result));
    }

    [Fact]
    public async Task A_step_whose_outcome_is_unknown_is_never_reported_as_a_host_unchanged()
    {
        var log = new List<string>();
        var lost = new SshConnectionException("SshConnectionLost",
            "The SSH connection to esx was lost while running 'x'. The command may or may not have completed on the host; check its state before retrying.");
        var broken = Step("b", log) with { Execute = _ => throw lost };
        var plan = new Plan { Operation = "CloneVm", Host = "esx", Vm = "web01", Steps = [Step("a", log), broken] };

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => new PlanExecutor(_audit, _redactor, Actor).ExecuteAsync(plan));

        Assert.Equal(["do a", "undo a"], log);
        Assert.True(e.FailedStepMayHaveTakenEffect);
        Assert.DoesNotContain("as it was before", e.Message);
        Assert.Contains("do b", e.Message); // the command to check on the host
    }

    [Fact]
    public async Task A_half_done_step_inside_an_undone_step_leaves_the_host_as_it_was()
    {
        var log = new List<string>();
        var lost = new SshConnectionException("SshConnectionLost", "The SSH connection to esx was lost while running 'x'.");
        var copy = Step("copy into folder", log) with { Execute = _ => throw lost, Inside = "folder" };
        var plan = new Plan { Operation = "CloneVm", Host = "esx", Steps = [Step("folder", log), copy] };

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => new PlanExecutor(_audit, _redactor, Actor).ExecuteAsync(plan));

        Assert.False(e.FailedStepMayHaveTakenEffect);
        Assert.Contains("The host is as it was before", e.Message);
    }

    [Fact]
    public async Task Cancelling_during_a_step_leaves_its_outcome_unknown()
    {
        var log = new List<string>();
        using var cts = new CancellationTokenSource();
        var slow = Step("b", log) with
        {
            Execute = async ct =>
            {
                await cts.CancelAsync();
                ct.ThrowIfCancellationRequested();
            },
        };
        var plan = new Plan { Operation = "CloneVm", Host = "esx", Steps = [Step("a", log), slow] };

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => new PlanExecutor(_audit, _redactor, Actor).ExecuteAsync(plan, null, cts.Token));

        Assert.True(e.FailedStepMayHaveTakenEffect);
        Assert.DoesNotContain("as it was before", e.Message);
    }

    [Fact]
    public void Declining_a_step_stops_asking_runs_nothing_and_is_audited_as_declined_not_as_a_preview()
    {
        var log = new List<string>();
        var plan = new Plan { Operation = "CloneVm", Host = "esx", Vm = "web01", Steps = [Step("a", log), Step("b", log), Step("c", log)] };
        var asked = new List<string>();

        var decision = new PlanExecutor(_audit, _redactor, Actor).Approve(plan, s =>
        {
            asked.Add(s.Title);
            return s.Title == "b" ? StepAnswer.Declined : StepAnswer.Approved;
        });

        Assert.Equal(PlanDecision.Declined, decision);
        Assert.Equal(["a", "b"], asked);
        Assert.Empty(log);
        Assert.Equal(["declined", "declined", "declined"], _audit.Read().Select(r => r.Result));
    }

    [Fact]
    public void WhatIf_offers_every_step_and_records_a_preview_of_each()
    {
        var log = new List<string>();
        var plan = new Plan { Operation = "CloneVm", Host = "esx", Steps = [Step("a", log), Step("b", log)] };
        var asked = new List<string>();

        var decision = new PlanExecutor(_audit, _redactor, Actor).Approve(plan, s =>
        {
            asked.Add(s.Title);
            return StepAnswer.WhatIf;
        });

        Assert.Equal((PlanDecision.Previewed, 2), (decision, asked.Count));
        Assert.Equal(["preview", "preview"], _audit.Read().Select(r => r.Result));
    }

    [Fact]
    public void A_plan_whose_every_step_is_approved_is_to_run_and_nothing_is_audited_yet()
    {
        var log = new List<string>();
        var plan = new Plan { Operation = "CloneVm", Host = "esx", Steps = [Step("a", log), Step("b", log)] };

        Assert.Equal(PlanDecision.Run, new PlanExecutor(_audit, _redactor, Actor).Approve(plan, _ => StepAnswer.Approved));
        Assert.Empty(_audit.Read());
    }

    [Fact]
    public async Task A_failed_undo_is_reported_with_what_is_left_and_how_to_remove_it()
    {
        var log = new List<string>();
        var plan = new Plan { Operation = "CreateVm", Host = "esx", Steps = [Step("copy disk", log, undoFails: true), Step("register", log, fail: true)] };

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => new PlanExecutor(_audit, _redactor, Actor).ExecuteAsync(plan));

        var left = Assert.Single(e.Left);
        Assert.Contains("copy disk", left);
        Assert.Contains("undo copy disk", left);
        Assert.Contains("LEFT ON THE HOST", e.Message);
        Assert.Equal("undo-failed", _audit.Read().Last().Result);
    }

    [Fact]
    public async Task A_restricted_version_fault_switches_to_the_ssh_fallback_for_the_rest_of_the_plan()
    {
        var log = new List<string>();
        // The free-license switch is the host adapter's decorator; the executor only runs and audits what it gets.
        var commands = new FallbackHostCommands(new RecordingHostCommands("soap", log, refuse: true), new RecordingHostCommands("ssh", log), new FreeLicense());
        PlanStep Soap(string name) => RecordingHostCommands.Step(name, commands.Combine(t => ((RecordingHostCommands)t).Do(name)));
        var plan = new Plan { Operation = "CreateVm", Host = "esx", Steps = [Soap("create"), Soap("register")] };

        await new PlanExecutor(_audit, _redactor, Actor).ExecuteAsync(plan);

        Assert.Equal(["do create over ssh", "do register over ssh"], log);
        Assert.Equal(["failed", "ok", "ok"], _audit.Read().Select(r => r.Result));
        // The refused API call is recorded with the host's answer, then the command that actually ran.
        Assert.Equal(["soap create(soap)", "ssh create(ssh)", "ssh register(ssh)"], _audit.Read().Select(r => r.Transport + " " + r.Command));
        Assert.Contains("prohibits execution", _audit.Read()[0].Error);
    }

    [Fact]
    public void A_step_with_an_ssh_twin_shows_both_commands()
    {
        var log = new List<string>();
        var commands = new FallbackHostCommands(new RecordingHostCommands("soap", log), new RecordingHostCommands("ssh", log), new FreeLicense());
        var step = RecordingHostCommands.Step("create", commands.Combine(t => ((RecordingHostCommands)t).Do("create")));

        Assert.Equal("create(soap)  [if the host refuses it (free license): create(ssh)]", new PlanExecutor(_audit, _redactor, Actor).Show(step));
    }

    [Fact]
    public async Task An_undo_after_a_refusal_goes_straight_to_ssh_and_is_audited_as_it_ran()
    {
        var log = new List<string>();
        var commands = new FallbackHostCommands(new RecordingHostCommands("soap", log, refuse: true), new RecordingHostCommands("ssh", log), new FreeLicense());
        var folder = new DatastorePath("datastore1", "web01");
        var plan = new Plan
        {
            Operation = "CreateVm",
            Host = "esx",
            Steps = [RecordingHostCommands.Step("mkdir", commands.MakeDirectory(folder), commands.DeleteDirectory(folder)), Step("register", log, fail: true)],
        };

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => new PlanExecutor(_audit, _redactor, Actor).ExecuteAsync(plan));

        Assert.Equal(["do mkdir [datastore1] web01 over ssh", "do rmdir [datastore1] web01 over ssh"], log);
        Assert.Empty(e.Left);
        Assert.Equal(["failed soap", "ok ssh", "failed ssh", "undone ssh"], _audit.Read().Select(r => r.Result + " " + r.Transport));
        Assert.Equal("rmdir [datastore1] web01(ssh)", _audit.Read()[^1].Command);
    }

    [Fact]
    public async Task Cancellation_before_a_step_undoes_what_ran()
    {
        var log = new List<string>();
        using var cts = new CancellationTokenSource();
        var cancel = new PlanStep { Title = "cancel", Target = "t", Transport = "local", Command = "x", Execute = _ => { cts.Cancel(); return Task.CompletedTask; } };
        var plan = new Plan { Operation = "Op", Host = "esx", Steps = [Step("a", log), cancel, Step("b", log)] };

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => new PlanExecutor(_audit, _redactor, Actor).ExecuteAsync(plan, null, cts.Token));

        Assert.Equal(CesoErrorKind.Cancelled, e.Kind);
        Assert.Equal(["do a", "undo a"], log);
    }

    [Fact]
    public async Task A_locked_audit_log_never_turns_a_change_that_ran_into_a_failure()
    {
        var log = new List<string>();
        File.WriteAllText(_audit.Path, "");
        var plan = new Plan { Operation = "Op", Host = "esx", Steps = [Step("a", log), Step("b", log)] };
        var executor = new PlanExecutor(_audit, _redactor, Actor);
        using (new FileStream(_audit.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) // another process holds it
        {
            await executor.ExecuteAsync(plan);
        }

        Assert.Equal(["do a", "do b"], log);
        Assert.Equal(2, executor.AuditFailures.Count);
        Assert.All(executor.AuditFailures, f => Assert.StartsWith("ok do ", f));
    }

    [Fact]
    public void The_audit_chain_verifies_and_an_edited_or_removed_record_breaks_it()
    {
        for (var i = 0; i < 5; i++)
        {
            _audit.Append(new AuditRecord { Operation = "Op", Host = "esx", Transport = "ssh", Command = "cmd " + i, Result = "ok" });
        }

        Assert.Equal(0, _audit.Verify());
        var lines = File.ReadAllLines(_audit.Path);
        File.WriteAllLines(_audit.Path, lines.Take(2).Concat(lines.Skip(3)));
        Assert.Equal(3, _audit.Verify());

        File.WriteAllLines(_audit.Path, lines.Select((l, i) => i == 1 ? l.Replace("cmd 1", "cmd X") : l));
        Assert.Equal(3, _audit.Verify());
    }

    [Fact]
    public void Check_counts_the_records_and_names_the_first_broken_one()
    {
        Assert.Equal(new AuditCheck(_audit.Path, 0, true, null), _audit.Check());
        for (var i = 0; i < 3; i++)
        {
            _audit.Append(new AuditRecord { Operation = "Op", Host = "esx", Transport = "ssh", Command = "cmd " + i, Result = "ok" });
        }

        Assert.Equal(new AuditCheck(_audit.Path, 3, true, null), _audit.Check());
        var lines = File.ReadAllLines(_audit.Path);
        File.WriteAllLines(_audit.Path, lines.Skip(1));
        Assert.Equal(new AuditCheck(_audit.Path, 2, false, 1), _audit.Check());
    }

    [Fact]
    public void An_old_record_without_an_agent_reads_back_without_one_whatever_CESO_AGENT_says_now()
    {
        _audit.Append(new AuditRecord { Operation = "Op", Host = "esx", Transport = "ssh", Command = "cmd", Result = "ok", Operator = "alice" });
        var before = Environment.GetEnvironmentVariable("CESO_AGENT");
        Environment.SetEnvironmentVariable("CESO_AGENT", "todays-agent");
        try
        {
            var r = Assert.Single(_audit.Read());
            Assert.Null(r.Agent);
            Assert.Equal("alice", r.Operator);
            Assert.Null(new AuditRecord { Operation = "Op", Host = "esx", Transport = "ssh", Command = "cmd", Result = "ok" }.Agent);
        }
        finally
        {
            Environment.SetEnvironmentVariable("CESO_AGENT", before);
        }
    }

    [Fact]
    public async Task The_executor_stamps_every_record_with_the_actor_it_was_given()
    {
        var log = new List<string>();
        var plan = new Plan { Operation = "StartVm", Host = "esx", Vm = "web01", Steps = [Step("a", log)] };

        await new PlanExecutor(_audit, _redactor, new AuditActor("alice", "claude")).ExecuteAsync(plan);

        var r = Assert.Single(_audit.Read());
        Assert.Equal(("alice", "claude"), (r.Operator, r.Agent));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("{\"time\": ")]
    [InlineData("null")]
    public void A_blank_or_unreadable_line_breaks_the_chain_at_that_line_and_reading_skips_and_reports_it(string bad)
    {
        for (var i = 0; i < 3; i++)
        {
            _audit.Append(new AuditRecord { Operation = "Op", Host = "esx", Transport = "ssh", Command = "cmd " + i, Result = "ok" });
        }

        var lines = File.ReadAllLines(_audit.Path).ToList();
        lines.Insert(1, bad);
        File.WriteAllLines(_audit.Path, lines);

        Assert.Equal(2, _audit.Verify());
        Assert.Equal(new AuditCheck(_audit.Path, 4, false, 2), _audit.Check());
        var unreadable = new List<int>();
        Assert.Equal(["cmd 0", "cmd 1", "cmd 2"], _audit.Read(unreadable.Add).Select(r => r.Command));
        Assert.Equal(bad.Length == 0 ? [] : [2], unreadable);
    }

    [Fact]
    public void Concurrent_writers_keep_the_chain_intact()
    {
        Parallel.For(0, 200, i => new AuditLog(_audit.Path, _redactor).Append(new AuditRecord { Operation = "Op", Host = "esx", Transport = "ssh", Command = "c" + i, Result = "ok" }));
        Assert.Equal(200, File.ReadAllLines(_audit.Path).Length);
        Assert.Equal(0, _audit.Verify());
    }

    public static TheoryData<string> Secrets => new()
    {
        "S3cr3t-Pa55!",
        "ghp_0123456789abcdefABCDEF0123456789abcd",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
    };

    [Theory]
    [MemberData(nameof(Secrets))]
    public async Task Secrets_never_reach_the_audit_log_or_the_error(string secret)
    {
        _redactor.Add(secret);
        var plan = new Plan
        {
            Operation = "CreateVm",
            Host = "esx",
            Steps =
            [
                new PlanStep
                {
                    Title = "write userdata", Target = "esx/vm", Transport = "ssh",
                    Command = $"printf %s '{secret}' > x; set password={secret}",
                    Execute = _ => throw new InvalidOperationException($"failed with {secret} and base64 {Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(secret))}"),
                },
            ],
        };

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => new PlanExecutor(_audit, _redactor, Actor).ExecuteAsync(plan));

        var text = File.ReadAllText(_audit.Path);
        Assert.DoesNotContain(secret, text);
        Assert.DoesNotContain(secret, e.Message);
        Assert.DoesNotContain(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(secret)), text);
        Assert.Contains(Redactor.Mask, text);
    }

    [Fact]
    public void Unregistered_private_keys_and_password_assignments_are_masked_by_shape()
    {
        var r = new Redactor();
        var text = r.Redact("connect --password 'hunter22' token=abc123 \"password\": \"p4ss\" -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- done");
        Assert.DoesNotContain("hunter22", text);
        Assert.DoesNotContain("abc123", text);
        Assert.DoesNotContain("p4ss", text);
        Assert.DoesNotContain("MIIE", text);
        Assert.EndsWith("done", text);
    }
}
