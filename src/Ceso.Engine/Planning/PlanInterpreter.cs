using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using Ceso.Engine.Connection;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Planning.Actions;

namespace Ceso.Engine.Planning;

/// <summary>
/// Runs <see cref="StepAction"/>s — plan steps as data — against one session's host adapter: each kind becomes the
/// host call it stands for (over both transports when the adapter has two), built from the action's arguments and
/// the run's <see cref="RunBindings"/>. The same rendering gives the exact text that -WhatIf shows and the digest
/// covers, so what runs is what was previewed. The interpreter holds no state of a run.
/// </summary>
/// <param name="commands">The session's host commands (the API with SSH twins, or SSH alone).</param>
/// <param name="inventory">Reads the VM a shutdown waits for.</param>
/// <param name="exists">Whether a lock folder is there (a release after a cut-off mkdir).</param>
/// <param name="issued">The identities this installation issued (<see cref="RecordIdentities"/>).</param>
/// <param name="host">The host's name, for errors.</param>
public sealed class PlanInterpreter(IHostCommands commands, IHostInventory? inventory, Func<DatastorePath, CancellationToken, Task<bool>>? exists, IssuedIdentities? issued, string host)
{
    /// <summary>The interpreter for plans on <paramref name="session"/>.</summary>
    public static PlanInterpreter For(CesoSession session, CesoHome home) =>
        new(session.Host.Commands, session.Inventory, session.Files.ExistsAsync, new IssuedIdentities(home), session.Server)
        {
            Accounts = () => Operations.HostAgentAccounts.CommandsFor(session),
            Shell = session.Ssh,
        };

    /// <summary>The host commands actions run on.</summary>
    public IHostCommands Commands { get; } = commands;

    /// <summary>The account and permission commands (the API, else SSH), made when an account action first needs them.</summary>
    public Func<IHostAccountCommands>? Accounts { get; init; }

    /// <summary>The SSH session <see cref="RunShell"/> actions run on; null when the session has none.</summary>
    public Ssh.SshSession? Shell { get; init; }

    /// <summary>
    /// The step made to run with this interpreter whatever plan holds it (a plan whose steps are on several hosts): it
    /// stays data (its action is digested), and each run binds it here.
    /// </summary>
    public PlanStep Own(PlanStep step) => step with { PerRun = run => Bind(step, run) };

    private IHostAccountCommands AccountCommands => (Accounts ?? throw new InvalidOperationException("This interpreter has no account commands."))();

    /// <summary>The host call <paramref name="action"/> stands for in <paramref name="run"/>.</summary>
    public HostCall Compile(StepAction action, RunBindings run) => action switch
    {
        RecordIdentities r => Recording(Compile(r.Then, run), r.Identities),
        IfCompleted c => OnlyIf(Compile(c.Then, run), c.Step, run),
        CoveredBy c => new HostCall("local", c.How, _ => Task.CompletedTask),
        CreateHostUser a => AccountCommands.CreateUser(a.User, a.Password.Value, a.Description),
        RemoveHostUser a => AccountCommands.RemoveUser(a.User),
        AddHostRole a => LearningRoleId(AccountCommands, a, run),
        SetHostPermission a => AccountCommands.SetPermission(a.Entity, a.User, a.Role, () => a.RoleId ?? (run.RoleIds.TryGetValue(a.Role, out var id) ? id
            : throw new CesoException("HostRoleNotFound", CesoErrorKind.HostError, $"{host} has no role '{a.Role}'.") { Host = host }), a.Propagate),
        RemoveHostPermission a => AccountCommands.RemovePermission(a.Entity, a.User),
        RunShell a => Shell is { } ssh
            ? new HostCall("ssh", a.Command, async ct => (await ssh.RunAsync(a.Command, ct).ConfigureAwait(false)).EnsureSuccess(host))
            : throw new CesoException("NoSsh", CesoErrorKind.InvalidArgument, $"The session to {host} has no SSH; this step runs a shell command on the host.") { Host = host },
        DiscardVm a => Discard(a, run),
        // Hot-add has no SSH twin: the adapter's own HotAdd refuses it, or learns the license, when the API does not take it.
        HotAdd a => Commands.HotAdd(run.Vm(a.Vm), a.NumCpu, a.MemoryMB) with { RunWithProgress = null },
        _ => Commands.Combine(t => On(t, action, run)),
    };

    /// <summary>The call as a preview shows it: ids a run learns are placeholders.</summary>
    public HostCall Render(StepAction action) => Compile(action, new RunBindings());

    /// <summary>
    /// The step as it runs in <paramref name="run"/>: a data step (<see cref="PlanStep.Action"/>) gets the code of its
    /// action and undo; a code step made for a run (<see cref="PlanStep.PerRun"/>) is made; any other step is as it is.
    /// </summary>
    public PlanStep Bind(PlanStep step, RunBindings run) => BindStep(this, step, run);

    /// <summary>Binds a step with or without an interpreter (a plan of code steps only needs none).</summary>
    internal static PlanStep BindStep(PlanInterpreter? interpreter, PlanStep step, RunBindings run)
    {
        if (step.PerRun is { } perRun)
        {
            return perRun(run);
        }

        if (step.Action is not { } action)
        {
            return step;
        }

        if (step.Execute is not null || step.ExecuteWithProgress is not null || step.ExecuteWithStatus is not null)
        {
            throw new InvalidOperationException($"The step '{step.Title}' is data and code at once; a step is one or the other.");
        }

        var self = interpreter ?? throw new InvalidOperationException($"The step '{step.Title}' is data and its plan has no interpreter.");
        var call = self.Compile(action, run);
        var bound = step with { Execute = call.Run, ExecuteWithProgress = call.RunWithProgress, Ran = call.Ran };
        if (step.UndoAction is null)
        {
            return bound;
        }

        if (step.UndoAction is CoveredBy)
        {
            return bound with { Undo = _ => Task.CompletedTask, UndoRan = null };
        }

        var undo = self.Compile(step.UndoAction, run);
        return bound with { Undo = undo.Run, UndoRan = undo.Ran };
    }

    private HostCall On(IHostCommands t, StepAction action, RunBindings run) => action switch
    {
        MakeDirectory a => t.MakeDirectory(a.Folder),
        DeleteDirectory a => t.DeleteDirectory(a.Folder),
        CopyDisk a => t.CopyDisk(a.Source, a.Target),
        CreateDisk a => t.CreateDisk(a.Disk, a.CapacityBytes),
        ExtendDisk a => t.ExtendDisk(a.Disk, a.CapacityBytes),
        DeleteDisk a => t.DeleteDisk(a.Disk),
        MoveDisk a => t.MoveDisk(a.Source, a.Target),
        WriteFile a => t.WriteFile(a.File, a.Content),
        RewriteVmx a => Rewrite(t, a.Vmx, a.Content, a.Previous, run.Vm(a.Vm)),
        Register a => t.Register(a.Vmx, run.Vm(a.Vm)),
        Unregister a => t.Unregister(run.Vm(a.Vm)),
        Destroy a => t.Destroy(run.Vm(a.Vm)),
        Reload a => t.Reload(run.Vm(a.Vm)),
        PowerOn a => t.PowerOn(run.Vm(a.Vm)),
        PowerOff a => t.PowerOff(run.Vm(a.Vm)),
        Reset a => t.Reset(run.Vm(a.Vm)),
        Shutdown a => ThenWaitOff(t.Shutdown(run.Vm(a.Vm)), run.Vm(a.Vm), a.WaitOff),
        CreateSnapshot a => t.CreateSnapshot(run.Vm(a.Vm), run.Snapshot(a.Snapshot)),
        RemoveSnapshot a => t.RemoveSnapshot(run.Vm(a.Vm), run.Snapshot(a.Snapshot)),
        SetRulesetAllowlist a => t.SetFirewallAllowlist(a.Current, a.AllowAll, a.Entries),
        TakeLock a => run.Lock(a.Folder, host).Acquire(t),
        ReleaseLock a => run.Lock(a.Folder, host).Release(t, exists ?? throw new InvalidOperationException("This interpreter cannot look at the datastore.")),
        Sequence a => Chain(a.Actions.Select(x => On(t, x, run)).ToList()),
        _ => throw new NotSupportedException($"A step of kind {action.GetType().Name} cannot run on the host commands."),
    };

    private HostCall Discard(DiscardVm a, RunBindings run)
    {
        var off = Compile(new PowerOff(a.Vm), run);
        var destroy = Compile(new Destroy(a.Vm), run);
        var rmdir = Compile(new DeleteDirectory(a.Folder), run);
        return new HostCall(destroy.Transport, () => $"{off.Command} (if it runs); {destroy.Command}; {rmdir.Command} (if anything is left)", async ct =>
        {
            var reads = inventory ?? throw new InvalidOperationException("This interpreter cannot read VMs.");
            var vm = run.Vm(a.Vm);
            var seen = await Operations.VmLookup.RefreshAsync(reads, vm.Id ?? vm.Name, ct).ConfigureAwait(false);
            if (seen is not null && seen.Name == vm.Name)
            {
                vm.Id = seen.Id;
                if (seen.PowerState != CesoPowerState.PoweredOff)
                {
                    await off.Run(ct).ConfigureAwait(false);
                }

                await destroy.Run(ct).ConfigureAwait(false);
            }

            if (await (exists ?? throw new InvalidOperationException("This interpreter cannot look at the datastore."))(a.Folder, ct).ConfigureAwait(false))
            {
                await rmdir.Run(ct).ConfigureAwait(false);
            }
        });
    }

    // The role's id is the host's to give: read back after the role is made, for the permissions of the same run.
    private static HostCall LearningRoleId(IHostAccountCommands accounts, AddHostRole a, RunBindings run)
    {
        var add = accounts.AddRole(a.Role, a.Privileges);
        return add with
        {
            Run = async ct =>
            {
                await add.Run(ct).ConfigureAwait(false);
                if ((await accounts.RolesAsync(ct).ConfigureAwait(false)).TryGetValue(a.Role, out var id))
                {
                    run.RoleIds[a.Role] = id;
                }
            },
            RunWithProgress = null,
        };
    }

    // Several calls as one: the texts joined with &&, run in order (one transport: the decorator runs the whole over SSH on a refusal).
    private static HostCall Chain(IReadOnlyList<HostCall> calls) =>
        new(calls[0].Transport, () => string.Join(" && ", calls.Select(c => c.Command)), async ct =>
        {
            foreach (var call in calls)
            {
                await call.Run(ct).ConfigureAwait(false);
            }
        });

    // The step that writes a new identity records it as issued first (also if the write then fails: it may have landed).
    private HostCall Recording(HostCall call, IReadOnlyList<string> identities)
    {
        var ledger = issued ?? throw new InvalidOperationException("This interpreter has no ledger of issued identities.");
        return call with
        {
            Run = ct =>
            {
                ledger.Record(identities);
                return call.Run(ct);
            },
            RunWithProgress = call.RunWithProgress is not { } withProgress ? null : (progress, ct) =>
            {
                ledger.Record(identities);
                return withProgress(progress, ct);
            },
        };
    }

    private static HostCall OnlyIf(HostCall call, string step, RunBindings run) => call with
    {
        Run = ct => run.Completed.Contains(step) ? call.Run(ct) : Task.CompletedTask,
        RunWithProgress = null,
    };

    /// <summary>
    /// Writes a VM's .vmx and reloads the VM. If the reload fails, the previous file is put back (and reloaded) before
    /// the error goes up: a failed step must not leave a changed .vmx behind while the plan reports the host unchanged.
    /// </summary>
    private static HostCall Rewrite(IHostCommands t, DatastorePath vmx, string text, string previous, VmHandle vm)
    {
        var write = t.WriteFile(vmx, text);
        var reload = t.Reload(vm);
        return new HostCall(write.Transport, () => $"{write.Command} && {reload.Command}", async ct =>
        {
            await write.Run(ct).ConfigureAwait(false);
            try
            {
                await reload.Run(ct).ConfigureAwait(false);
            }
            catch
            {
                try
                {
                    await t.WriteFile(vmx, previous).Run(CancellationToken.None).ConfigureAwait(false);
                    await t.Reload(vm).Run(CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception restore) when (restore is CesoException or IOException or HttpRequestException)
                {
                    // best effort: the original error goes up (a free license's refusal makes the adapter retry over SSH)
                }

                throw;
            }
        });
    }

    // A guest shutdown only asks VMware Tools; the step is done when the VM is off, and fails (never forcing) at the timeout.
    private HostCall ThenWaitOff(HostCall shutdown, VmHandle vm, TimeSpan timeout) => new(shutdown.Transport, shutdown.Describe, async ct =>
    {
        var reads = inventory ?? throw new InvalidOperationException("This interpreter cannot read VMs.");
        await shutdown.Run(ct).ConfigureAwait(false);
        var deadline = DateTime.UtcNow + timeout;
        while ((await Operations.VmLookup.RefreshAsync(reads, vm.Required, ct).ConfigureAwait(false))?.PowerState == CesoPowerState.PoweredOn)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new CesoException("ShutdownTimeout", CesoErrorKind.InvalidState,
                    $"The guest of '{vm.Name}' did not shut down within {timeout.TotalMinutes:0} min (are VMware Tools running?). Use Stop-CesoVm -Kill to power it off.")
                { Target = vm.Name, Host = host };
            }

            await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
        }
    });

    /// <summary>
    /// The canonical text of an action for the plan's digest: its kind and every argument by name, in declaration
    /// order, lists and nested records spelt out (a record's own ToString would print a list's type name).
    /// </summary>
    public static string Canonical(object? value)
    {
        var text = new StringBuilder();
        Write(text, value);
        return text.ToString();
    }

    private static void Write(StringBuilder text, object? value)
    {
        switch (value)
        {
            case null:
                text.Append("null");
                return;
            case string s:
                text.Append('"').Append(s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('"');
                return;
            case DatastorePath p:
                Write(text, p.ToString());
                return;
            case Secret:
                text.Append("<secret>");
                return;
            case DateTimeOffset t:
                text.Append(t.ToString("O", CultureInfo.InvariantCulture));
                return;
            case TimeSpan t:
                text.Append(t.ToString("c", CultureInfo.InvariantCulture));
                return;
            case IFormattable f when value.GetType().IsPrimitive || value is decimal || value.GetType().IsEnum:
                text.Append(f.ToString(null, CultureInfo.InvariantCulture));
                return;
            case bool b:
                text.Append(b ? "true" : "false");
                return;
            case IEnumerable items:
                text.Append('[');
                var first = true;
                foreach (var item in items)
                {
                    text.Append(first ? "" : ", ");
                    first = false;
                    Write(text, item);
                }

                text.Append(']');
                return;
        }

        // Only the records actions are made of are spelt out property by property (in declaration order); any other type
        // is a mistake in a new action, refused rather than rendered by guesswork (a DateTime's Date would recurse).
        var type = value.GetType();
        if (value is not (StepAction or VmRef or SnapshotRef or CesoFirewallRuleset or PermissionEntity))
        {
            throw new NotSupportedException($"A step action's argument of type {type.Name} has no canonical text; add it to PlanInterpreter.Canonical.");
        }

        text.Append(type.Name).Append('(');
        var firstProperty = true;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract").OrderBy(p => p.MetadataToken))
        {
            text.Append(firstProperty ? "" : ", ").Append(property.Name).Append('=');
            firstProperty = false;
            Write(text, property.GetValue(value));
        }

        text.Append(')');
    }
}

/// <summary>
/// What one run of a plan learns while it runs: the VMs it registers (their ids), the snapshots it makes, the locks it
/// takes, and which changes completed. A plan never holds these; each run, and each preview, has its own.
/// </summary>
public sealed class RunBindings
{
    private readonly Dictionary<string, VmHandle> _vms = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SnapshotHandle> _snapshots = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FolderLock> _locks = new(StringComparer.Ordinal);

    /// <summary>The ids of the roles this run made (<see cref="AddHostRole"/>), by name.</summary>
    public Dictionary<string, int> RoleIds { get; } = new(StringComparer.Ordinal);

    /// <summary>Titles of the changes that completed in this run.</summary>
    public HashSet<string> Completed { get; } = new(StringComparer.Ordinal);

    /// <summary>The run's handle of <paramref name="vm"/> (its id, once known).</summary>
    public VmHandle Vm(VmRef vm)
    {
        if (!_vms.TryGetValue(vm.Name, out var handle))
        {
            _vms[vm.Name] = handle = new VmHandle(vm.Name, vm.Id);
        }

        return handle;
    }

    /// <summary>The run's handle of <paramref name="snapshot"/>.</summary>
    public SnapshotHandle Snapshot(SnapshotRef snapshot)
    {
        if (!_snapshots.TryGetValue(snapshot.Name, out var handle))
        {
            _snapshots[snapshot.Name] = handle = new SnapshotHandle(snapshot.Name);
        }

        return handle;
    }

    /// <summary>The run's lock on <paramref name="folder"/>.</summary>
    public FolderLock Lock(DatastorePath folder, string host)
    {
        var key = folder.ToString();
        if (!_locks.TryGetValue(key, out var held))
        {
            _locks[key] = held = new FolderLock(folder, host);
        }

        return held;
    }

    /// <summary>The vmid of <paramref name="vm"/> as this run knows it (learnt by registering it, or known before), or null.</summary>
    public string? IdOf(VmRef vm) => _vms.TryGetValue(vm.Name, out var handle) ? handle.Id : vm.Id;
}
