using Ceso.Engine;
using Ceso.Engine.Connection;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;
using Ceso.Engine.Security;

namespace Ceso.Tests.Engine;

/// <summary>
/// Plans as data: every step kind is rendered and run by the interpreter, what a run learns stays in that run, a plan
/// is the same object before and after it ran, and the digest covers the actions' typed arguments.
/// </summary>
public sealed class PlanInterpreterTests : IDisposable
{
    private static readonly DatastorePath Folder = new("ds1", "web01");
    private readonly CesoHome _home = new(Directory.CreateTempSubdirectory("ceso-interp-").FullName);
    private readonly List<string> _log = [];

    public void Dispose() => Directory.Delete(_home.Path, recursive: true);

    private PlanInterpreter Interpreter(IHostCommands? commands = null) =>
        new(commands ?? new RegisteringCommands(new RecordingHostCommands("ssh", _log)), null, (_, _) => Task.FromResult(false), new IssuedIdentities(_home), "esx");

    private PlanExecutor Executor() => new(AuditLog.Open(_home, new Redactor()), new Redactor(), new AuditActor("tester", null));

    private static PlanStep Step(PlanInterpreter interpreter, string title, StepAction action, StepAction? undo = null)
    {
        var call = interpreter.Render(action);
        return new PlanStep
        {
            Title = title,
            Target = "esx/web01",
            Transport = call.Transport,
            Command = call.Command,
            Action = action,
            UndoAction = undo,
            UndoCommand = undo is null ? null : interpreter.Render(undo).Command,
        };
    }

    private Plan CreatePlan(PlanInterpreter interpreter)
    {
        var vm = new VmRef("web01");
        var vmx = Folder.Child("web01.vmx");
        return new Plan
        {
            Operation = "CreateVm",
            Host = "esx",
            Vm = "web01",
            Interpreter = interpreter,
            Steps =
            [
                Step(interpreter, "Create folder", new MakeDirectory(Folder), new DeleteDirectory(Folder)),
                Step(interpreter, "Write web01.vmx", new RecordIdentities(["4223aa"], new WriteFile(vmx, "displayName = \"web01\"\n")), new CoveredBy("removed with the folder")),
                Step(interpreter, "Register", new Register(vmx, vm), new Unregister(vm)),
                Step(interpreter, "Power on", new PowerOn(vm), new PowerOff(vm)),
            ],
        };
    }

    [Fact]
    public async Task A_plan_is_data_that_two_runs_share_and_each_run_learns_its_own_vm_id()
    {
        var plan = CreatePlan(Interpreter());
        var before = plan.Steps.Select(s => (s.Command, PlanInterpreter.Canonical(s.Action), s.Execute)).ToList();
        var digest = PlanDigest.Of(plan);

        var first = await Executor().ExecuteAsync(plan);
        var second = await Executor().ExecuteAsync(plan);

        Assert.Equal("1", first.IdOf(new VmRef("web01")));
        Assert.Equal("2", second.IdOf(new VmRef("web01"))); // a second registration: the host gives another id
        // The plan did not change by running: no id, no code bound to its steps, the same digest.
        Assert.Equal(before, plan.Steps.Select(s => (s.Command, PlanInterpreter.Canonical(s.Action), s.Execute)).ToList());
        Assert.All(plan.Steps, s => Assert.Null(s.Execute));
        Assert.Contains("<vmid of 'web01'>", plan.Steps[^1].Command);
        Assert.Equal(digest, PlanDigest.Of(plan));
        Assert.Equal(
            ["do mkdir [ds1] web01 over ssh", "do write [ds1] web01/web01.vmx over ssh", "do register web01 over ssh", "do poweron web01 #1 over ssh"],
            _log.Take(4));
        Assert.Equal("do poweron web01 #2 over ssh", _log[^1]); // the second run powers on the VM it registered
        Assert.Contains("4223aa", new IssuedIdentities(_home).Read());
    }

    [Fact]
    public async Task A_failed_run_undoes_through_the_interpreter_with_the_ids_that_run_learnt()
    {
        var interpreter = Interpreter();
        var plan = CreatePlan(interpreter);
        var failing = plan with
        {
            Steps = [.. plan.Steps, new PlanStep { Title = "Fail", Target = "esx", Transport = "local", Command = "fail", Execute = _ => throw new IOException("disk full") }],
        };

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => Executor().ExecuteAsync(failing));

        Assert.Equal(["Power on", "Register", "Write web01.vmx", "Create folder"], e.Undone);
        Assert.Contains("do poweroff web01 #1 over ssh", _log);
        Assert.Contains("do unregister web01 #1 over ssh", _log);
        Assert.Equal("do rmdir [ds1] web01 over ssh", _log[^1]);
    }

    [Fact]
    public async Task Every_kind_renders_the_command_it_runs()
    {
        var interpreter = Interpreter();
        var vm = new VmRef("web01", "7");
        var disk = Folder.Child("web01.vmdk");
        var kinds = new (StepAction Action, string Runs)[]
        {
            (new MakeDirectory(Folder), "mkdir [ds1] web01"),
            (new DeleteDirectory(Folder), "rmdir [ds1] web01"),
            (new CopyDisk(disk, Folder.Child("b.vmdk")), "copy [ds1] web01/b.vmdk"),
            (new CreateDisk(disk, 1 << 30), "create [ds1] web01/web01.vmdk"),
            (new ExtendDisk(disk, 2L << 30), "extend [ds1] web01/web01.vmdk"),
            (new DeleteDisk(disk), "delete [ds1] web01/web01.vmdk"),
            (new MoveDisk(disk, Folder.Child("c.vmdk")), "move [ds1] web01/web01.vmdk [ds1] web01/c.vmdk"),
            (new Unregister(vm), "unregister web01 #7"),
            (new Destroy(vm), "destroy web01 #7"),
            (new Reload(vm), "reload web01 #7"),
            (new PowerOff(vm), "poweroff web01 #7"),
            (new Reset(vm), "reset web01 #7"),
            (new CreateSnapshot(vm, new SnapshotRef("ceso-1")), "snapshot web01"),
            (new RemoveSnapshot(vm, new SnapshotRef("ceso-1")), "unsnapshot web01"),
            (new Sequence([new ExtendDisk(disk, 2L << 30), new Reload(vm)]), "extend [ds1] web01/web01.vmdk, reload web01 #7"),
            (new RewriteVmx(Folder.Child("web01.vmx"), "new", "old", vm), "write [ds1] web01/web01.vmx, reload web01 #7"),
        };
        foreach (var (action, runs) in kinds)
        {
            _log.Clear();
            var call = interpreter.Compile(action, new RunBindings());
            await call.Run(default);
            Assert.Equal(runs.Split(", ").Select(r => $"do {r} over ssh"), _log);
            // The text shown names every call that ran (a sequence joined with &&), with the id the run knows.
            Assert.Equal(runs.Split(", ").Length, call.Command.Split(" && ").Length);
            Assert.All(runs.Split(", "), r => Assert.Contains(r.Split(" #")[0].Split(" [")[0], call.Command, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_guarded_cleanup_runs_only_after_its_step_completed_and_a_covered_undo_does_nothing()
    {
        var interpreter = Interpreter();
        var run = new RunBindings();
        var delete = interpreter.Compile(new IfCompleted("Reload", new DeleteDisk(Folder.Child("old.vmdk"))), run);
        await delete.Run(default);
        Assert.Empty(_log);
        run.Completed.Add("Reload");
        await delete.Run(default);
        Assert.Equal(["do delete [ds1] web01/old.vmdk over ssh"], _log);

        var covered = interpreter.Compile(new CoveredBy("removed with the folder"), run);
        await covered.Run(default);
        Assert.Equal("removed with the folder", covered.Command);
        Assert.Single(_log);
    }

    [Fact]
    public async Task A_guarded_cleanup_does_not_run_once_its_step_was_undone()
    {
        var interpreter = Interpreter();
        var vm = new VmRef("web01", "7");
        var old = Folder.Child("web01-old.vmdk");
        var plan = new Plan
        {
            Operation = "RestoreVmInPlace",
            Host = "esx",
            Interpreter = interpreter,
            Steps =
            [
                Step(interpreter, "Reload", new Reload(vm), new Reload(vm)),
                new PlanStep { Title = "Power on", Target = "esx", Transport = "local", Command = "fail", Execute = _ => throw new IOException("no power") },
                Step(interpreter, "Delete the old disk", new IfCompleted("Reload", new DeleteDisk(old))) with { Kind = StepKind.Cleanup },
            ],
        };

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => Executor().ExecuteAsync(plan));

        Assert.Equal(["Reload"], e.Undone);
        Assert.DoesNotContain(_log, l => l.Contains("delete", StringComparison.Ordinal)); // the old disk is kept: the reload was undone
        Assert.Equal(["do reload web01 #7 over ssh", "do reload web01 #7 over ssh"], _log);
    }

    [Fact]
    public void A_step_that_is_data_and_code_at_once_is_refused_and_an_unknown_argument_type_has_no_canonical_text()
    {
        var interpreter = Interpreter();
        var both = Step(interpreter, "Power on", new PowerOn(new VmRef("web01", "7"))) with { Execute = _ => Task.CompletedTask };
        Assert.Throws<InvalidOperationException>(() => interpreter.Bind(both, new RunBindings()));
        Assert.Throws<NotSupportedException>(() => PlanInterpreter.Canonical(new Sequence([new PowerOn(new VmRef("x"))]) with { Actions = [new UnknownArgument(DateTime.UnixEpoch)] }));
    }

    private sealed record UnknownArgument(DateTime When) : StepAction;

    [Fact]
    public async Task A_role_the_run_makes_gives_its_id_to_the_permissions_after_it_and_a_password_is_in_no_text_or_digest()
    {
        var accounts = new RecordingAccounts(_log);
        var interpreter = new PlanInterpreter(new RecordingHostCommands("soap", _log), null, null, null, "esx") { Accounts = () => accounts };
        Plan Of(string password) => new()
        {
            Operation = "GrantAgentAccess",
            Host = "esx",
            Interpreter = interpreter,
            Steps =
            [
                Step(interpreter, "User", new CreateHostUser("ceso-a", "Ceso agent a", new Secret(password)), new RemoveHostUser("ceso-a")),
                Step(interpreter, "Role", new AddHostRole("CesoOperator", ["VirtualMachine.Interact.PowerOn"])),
                Step(interpreter, "Permission", new SetHostPermission(PermissionEntity.HostRoot, "ceso-a", "CesoOperator", null, Propagate: true)),
            ],
        };

        var plan = Of("S3cret-pw-1");
        Assert.Equal(PlanDigest.Of(plan), PlanDigest.Of(Of("Other-pw-2"))); // a new random password re-plans the same
        Assert.DoesNotContain("S3cret-pw-1", string.Join("\n", plan.Steps.Select(st => st.Command + PlanInterpreter.Canonical(st.Action))));
        await Executor().ExecuteAsync(plan);
        Assert.Equal(["create ceso-a with S3cret-pw-1", "role CesoOperator", "permission ceso-a CesoOperator #-1001"], _log);
        // the next run learns the id again, for itself
        _log.Clear();
        accounts.NextRoleId = -1002;
        await Executor().ExecuteAsync(plan);
        Assert.Equal("permission ceso-a CesoOperator #-1002", _log[^1]);
    }

    private sealed class RecordingAccounts(List<string> log) : IHostAccountCommands
    {
        private readonly Dictionary<string, int> _roles = new() { ["ReadOnly"] = -2 };

        public int NextRoleId { get; set; } = -1001;

        public string Transport => "soap";

        public Task<IReadOnlyDictionary<string, int>> RolesAsync(CancellationToken ct) => Task.FromResult<IReadOnlyDictionary<string, int>>(new Dictionary<string, int>(_roles));

        public HostCall CreateUser(string user, string password, string description) =>
            new(Transport, $"CreateUser({user}, <redacted>)", _ => Log($"create {user} with {password}"));

        public HostCall RemoveUser(string user) => new(Transport, $"RemoveUser({user})", _ => Log($"remove {user}"));

        public HostCall AddRole(string role, IReadOnlyList<string> privileges) => new(Transport, $"AddRole({role})", _ =>
        {
            _roles[role] = NextRoleId;
            return Log($"role {role}");
        });

        public HostCall SetPermission(PermissionEntity entity, string user, string role, Func<int> roleId, bool propagate) =>
            new(Transport, $"SetPermission({user}, {role})", _ => Log($"permission {user} {role} #{roleId()}"));

        public HostCall RemovePermission(PermissionEntity entity, string user) => new(Transport, $"RemovePermission({user})", _ => Log($"unpermission {user}"));

        private Task Log(string line)
        {
            log.Add(line);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public void The_digest_covers_typed_arguments_the_rendered_text_leaves_out()
    {
        // The recording host renders "create <disk>" without the size: only the action tells the two plans apart.
        var interpreter = Interpreter();
        Plan Of(long bytes) => new()
        {
            Operation = "ReconfigureVm",
            Host = "esx",
            Interpreter = interpreter,
            Steps = [Step(interpreter, "Create disk", new CreateDisk(Folder.Child("d.vmdk"), bytes))],
        };

        Assert.Equal(Of(1L << 30).Steps[0].Command, Of(2L << 30).Steps[0].Command);
        Assert.NotEqual(PlanDigest.Of(Of(1L << 30)), PlanDigest.Of(Of(2L << 30)));
        Assert.Equal(PlanDigest.Of(Of(1L << 30)), PlanDigest.Of(Of(1L << 30)));
        Assert.Equal("CreateDisk(Disk=\"[ds1] web01/d.vmdk\", CapacityBytes=1073741824)", PlanInterpreter.Canonical(Of(1L << 30).Steps[0].Action));
    }

    [Fact]
    public void Canonical_text_spells_out_lists_and_nested_actions()
    {
        var text = PlanInterpreter.Canonical(new RecordIdentities(["a", "b"], new Sequence([new PowerOn(new VmRef("x", "1")), new Reload(new VmRef("x", "1"))])));
        Assert.Equal("RecordIdentities(Identities=[\"a\", \"b\"], Then=Sequence(Actions=[PowerOn(Vm=VmRef(Name=\"x\", Id=\"1\")), Reload(Vm=VmRef(Name=\"x\", Id=\"1\"))]))", text);
    }

    /// <summary>The recording host, where registering a VM gives it the next id (as hostd does) and VM calls name that id.</summary>
    private sealed class RegisteringCommands(RecordingHostCommands inner) : IHostCommands
    {
        private int _next;

        public string Transport => inner.Transport;

        public bool SupportsHotAdd => inner.SupportsHotAdd;

        public HostCall HotAdd(VmHandle vm, int? numCpu, long? memoryMB) => inner.HotAdd(vm, numCpu, memoryMB);

        public HostCall MakeDirectory(DatastorePath folder) => inner.MakeDirectory(folder);

        public HostCall DeleteDirectory(DatastorePath folder) => inner.DeleteDirectory(folder);

        public HostCall CopyDisk(DatastorePath source, DatastorePath target) => inner.CopyDisk(source, target);

        public HostCall CreateDisk(DatastorePath disk, long capacityBytes) => inner.CreateDisk(disk, capacityBytes);

        public HostCall ExtendDisk(DatastorePath disk, long capacityBytes) => inner.ExtendDisk(disk, capacityBytes);

        public HostCall DeleteDisk(DatastorePath disk) => inner.DeleteDisk(disk);

        public HostCall MoveDisk(DatastorePath source, DatastorePath target) => inner.MoveDisk(source, target);

        public HostCall WriteFile(DatastorePath file, string content) => inner.WriteFile(file, content);

        public HostCall Register(DatastorePath vmx, VmHandle vm)
        {
            var call = inner.Register(vmx, vm);
            return call with
            {
                Run = async ct =>
                {
                    await call.Run(ct);
                    vm.Id = (++_next).ToString(System.Globalization.CultureInfo.InvariantCulture);
                },
            };
        }

        public HostCall Unregister(VmHandle vm) => Named("unregister", vm);

        public HostCall Destroy(VmHandle vm) => Named("destroy", vm);

        public HostCall Reload(VmHandle vm) => Named("reload", vm);

        public HostCall PowerOn(VmHandle vm) => Named("poweron", vm);

        public HostCall PowerOff(VmHandle vm) => Named("poweroff", vm);

        public HostCall Shutdown(VmHandle vm) => Named("shutdown", vm);

        public HostCall Reset(VmHandle vm) => Named("reset", vm);

        public HostCall CreateSnapshot(VmHandle vm, SnapshotHandle snapshot) => inner.CreateSnapshot(vm, snapshot);

        public HostCall RemoveSnapshot(VmHandle vm, SnapshotHandle snapshot) => inner.RemoveSnapshot(vm, snapshot);

        // The id is read when the call runs, and shown as a placeholder until a run knows it.
        private HostCall Named(string verb, VmHandle vm) => new(Transport, () => $"{verb} {vm.Name} #{vm.Display}({Transport})", ct => inner.Do($"{verb} {vm.Name} #{vm.Required}").Run(ct));
    }
}
