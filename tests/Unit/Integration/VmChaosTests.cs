using System.Text.Json;
using Ceso.Engine;
using Ceso.Engine.CloudInit;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;
using Ceso.Engine.Security;
using Ceso.Engine.Shell;

namespace Ceso.Tests.Integration;

/// <summary>Failures half-way leave the host exactly as it was; bad input fails before any change.</summary>
[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class VmChaosTests(TestBed bed)
{
    private Task<(CesoSession Session, VmOperations Vms, PlanExecutor Executor)> OpenAsync(Transport transport) => bed.OpenOperationsAsync(transport);

    /// <summary>Inventory (names, ids, power, snapshots) and every file on the datastore.</summary>
    private async Task<string> HostStateAsync()
    {
        await using var ssh = await bed.ConnectAsync(Transport.Ssh);
        var vms = await ssh.Inventory.GetVmsAsync();
        var files = (await ssh.Ssh!.RunAsync("cd /vmfs/volumes/datastore1/ && find . | sort")).Stdout;
        return JsonSerializer.Serialize(vms.Select(v => new { v.Name, v.Id, v.PowerState, v.SnapshotCount, v.NumCpu, v.MemoryMB })) + "\n" + files;
    }

    private async Task<PlanFailedException> FailsAndLeavesNothingAsync(Func<Task> act)
    {
        var before = await HostStateAsync();
        var e = await Assert.ThrowsAsync<PlanFailedException>(act);
        Assert.Empty(e.Left);
        Assert.Contains("The host is as it was before", e.Message);
        Assert.Equal(before, await HostStateAsync());
        return e;
    }

    [Fact]
    public async Task A_full_datastore_during_the_disk_copy_undoes_everything()
    {
        var (session, vms, executor) = await OpenAsync(Transport.Ssh);
        await using var _ = session;
        var (plan, _) = await vms.PlanCreateAsync(new CreateVmRequest { Name = "full01", Template = "vm01" });
        bed.Fault("datastoreFull=datastore1");
        try
        {
            var e = await FailsAndLeavesNothingAsync(() => executor.ExecuteAsync(plan));
            Assert.Contains("Copy disk", e.FailedStep);
            Assert.Contains("not enough space", e.Message);
        }
        finally
        {
            bed.ClearFaults();
        }
    }

    [Fact]
    public async Task An_ssh_connection_dropped_mid_plan_is_undone_over_a_new_connection()
    {
        var (session, vms, executor) = await OpenAsync(Transport.Ssh);
        await using var _ = session;
        var (plan, _) = await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm02", Name = "drop01" });
        bed.Fault("dropSsh=vmkfstools");
        try
        {
            var e = await FailsAndLeavesNothingAsync(() => executor.ExecuteAsync(plan));
            Assert.Equal("SshConnectionLost", e.ErrorId);
        }
        finally
        {
            bed.ClearFaults();
        }
    }

    [Fact]
    public async Task A_connection_dropped_while_a_vmx_is_written_never_quotes_the_file_in_the_error_or_the_audit_log()
    {
        // The .vmx carries guestinfo user-data (keys, tokens, encoded so no redactor can spot them): none of the file's
        // body may reach an error or a record; the placeholder text stands for it.
        var (session, vms, executor) = await OpenAsync(Transport.Ssh);
        await using var _ = session;
        await executor.ExecuteAsync((await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm02", Name = "dropvmx01" })).Plan);
        try
        {
            var (plan, _) = await vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = "dropvmx01", NumCpu = 3 });
            var log = bed.Home.File("audit", "audit.jsonl");
            var mark = File.Exists(log) ? File.ReadAllLines(log).Length : 0;
            bed.Fault("dropSsh=printf"); // the .vmx upload is `printf %s '<the whole file>' > tmp && mv tmp file`
            try
            {
                var e = await Assert.ThrowsAsync<PlanFailedException>(() => executor.ExecuteAsync(plan));
                Assert.Equal("SshConnectionLost", e.ErrorId);
                Assert.Contains("bytes: dropvmx01.vmx>", e.Message);
                for (Exception? x = e; x is not null; x = x.InnerException)
                {
                    Assert.DoesNotContain("displayName = ", x.Message, StringComparison.Ordinal);
                }

                Assert.All(File.ReadAllLines(log).Skip(mark), line => Assert.DoesNotContain("displayName = ", line, StringComparison.Ordinal));
            }
            finally
            {
                bed.ClearFaults();
            }
        }
        finally
        {
            await executor.ExecuteAsync((await vms.PlanRemoveAsync("dropvmx01", false)).Plan);
        }
    }

    [Fact]
    public async Task Ctrl_c_in_the_middle_of_a_plan_undoes_what_ran_and_leaves_the_host_as_it_was()
    {
        var (session, vms, executor) = await OpenAsync(Transport.Ssh);
        await using var _ = session;
        var (plan, _) = await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm02", Name = "cancel01" });
        var before = await HostStateAsync();
        bed.Fault("delayMs=2000"); // a slow host: every tool call takes 2 s, so the copy is still running when we cancel
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(1500));
            var e = await Assert.ThrowsAsync<PlanFailedException>(() => executor.ExecuteAsync(plan, null, cts.Token));
            Assert.Equal(CesoErrorKind.Cancelled, e.Kind);
            Assert.Empty(e.Left);
        }
        finally
        {
            bed.ClearFaults();
        }

        Assert.Equal(before, await HostStateAsync());
        Assert.Equal("still usable\n", (await session.Ssh!.RunAsync("echo still usable")).Stdout);
    }

    [Fact]
    public async Task A_failing_snapshot_during_a_hot_clone_leaves_no_snapshot_and_no_copy()
    {
        var (session, vms, executor) = await OpenAsync(Transport.Ssh);
        await using var _ = session;
        await executor.ExecuteAsync((await vms.PlanPowerAsync("vm03", PowerAction.Start)).Plan);
        try
        {
            var (plan, _) = await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm03", Name = "snapfail01", Hot = true });
            bed.Fault("snapshotFailure=on");
            try
            {
                var e = await FailsAndLeavesNothingAsync(() => executor.ExecuteAsync(plan));
                Assert.StartsWith("Snapshot", e.FailedStep);
            }
            finally
            {
                bed.ClearFaults();
            }
        }
        finally
        {
            await executor.ExecuteAsync((await vms.PlanPowerAsync("vm03", PowerAction.Kill)).Plan);
        }
    }

    [Fact]
    public async Task A_free_license_discovered_mid_plan_switches_the_rest_of_the_plan_to_ssh()
    {
        var (session, vms, executor) = await OpenAsync(Transport.Auto);
        await using var _ = session;
        var (plan, handle) = await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm02", Name = "free01" });
        Assert.Equal("soap", plan.Steps[0].Transport);
        bed.Fault("restricted=on");
        var mark = bed.Calls().Count;
        try
        {
            var result = await executor.ExecuteAsync(plan);
            var calls = bed.CallsSince(mark);
            Assert.Contains(calls, c => c.Channel == "soap" && c.Name == "MakeDirectory");
            Assert.Contains(calls, c => c.Channel == "ssh" && c.Kind == "exec" && c.Name.StartsWith("vim-cmd solo/registervm", StringComparison.Ordinal));
            Assert.DoesNotContain(calls, c => c.Channel == "soap" && c.Name == "CopyVirtualDisk_Task");
            Assert.NotNull(result.IdOf(handle));
            Assert.NotNull(await vms.RefreshAsync("free01"));
        }
        finally
        {
            await executor.ExecuteAsync((await vms.PlanRemoveAsync("free01", keepFiles: false)).Plan);
            bed.ClearFaults();
        }
    }

    [Fact]
    public async Task Two_clones_of_the_same_source_at_once_both_succeed()
    {
        async Task CloneAsync(string name)
        {
            var (session, vms, executor) = await OpenAsync(Transport.Ssh);
            await using var _ = session;
            await executor.ExecuteAsync((await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm04", Name = name })).Plan);
        }

        try
        {
            await Task.WhenAll(CloneAsync("twin01"), CloneAsync("twin02"));
            await using var check = await bed.ConnectAsync(Transport.Ssh);
            var all = await check.Inventory.GetVmsAsync();
            Assert.Contains(all, v => v.Name == "twin01");
            Assert.Contains(all, v => v.Name == "twin02");
            Assert.NotEqual(all.Single(v => v.Name == "twin01").BiosUuid, all.Single(v => v.Name == "twin02").BiosUuid);
        }
        finally
        {
            var (session, vms, executor) = await OpenAsync(Transport.Ssh);
            await using var _ = session;
            foreach (var n in new[] { "twin01", "twin02" })
            {
                if (await vms.RefreshAsync(n) is not null)
                {
                    await executor.ExecuteAsync((await vms.PlanRemoveAsync(n, false)).Plan);
                }
            }
        }
    }

    [Fact]
    public async Task A_second_hot_copy_of_the_same_vm_fails_at_the_lock_before_any_change()
    {
        var (session, vms, executor) = await OpenAsync(Transport.Ssh);
        await using var _ = session;
        await executor.ExecuteAsync((await vms.PlanPowerAsync("vm03", PowerAction.Start)).Plan);
        try
        {
            var (first, _) = await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm03", Name = "hotA", Hot = true });
            var (second, _) = await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm03", Name = "hotB", Hot = true });
            // Run the first up to its copy (lock + snapshot held), then try the second. A step is data: one run's code is bound to it.
            var held = first.Interpreter!.Bind(first.Steps[0], new RunBindings());
            await held.Execute!(CancellationToken.None);
            try
            {
                var e = await Assert.ThrowsAsync<PlanFailedException>(() => executor.ExecuteAsync(second));
                Assert.StartsWith("Lock", e.FailedStep);
                Assert.Equal("HotCopyLocked", e.ErrorId);
                Assert.Empty(e.Left);
                // The second copy's unlock ran (its lock step started) but found the lock was not its own: the first keeps it.
                Assert.Equal("locked", await LockStateAsync(session));
                Assert.Null(await vms.RefreshAsync("hotB"));
                Assert.Equal(0, (await vms.RefreshAsync("vm03"))!.SnapshotCount);
            }
            finally
            {
                await held.Undo!(CancellationToken.None);
            }

            await executor.ExecuteAsync((await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm03", Name = "hotA", Hot = true })).Plan);
            Assert.NotNull(await vms.RefreshAsync("hotA"));
        }
        finally
        {
            if (await vms.RefreshAsync("hotA") is not null)
            {
                await executor.ExecuteAsync((await vms.PlanRemoveAsync("hotA", false)).Plan);
            }

            await executor.ExecuteAsync((await vms.PlanPowerAsync("vm03", PowerAction.Kill)).Plan);
        }
    }

    [Fact]
    public async Task A_name_two_vms_share_is_refused_and_the_id_picks_the_one_meant()
    {
        var (session, vms, executor) = await OpenAsync(Transport.Ssh);
        await using var _ = session;
        await executor.ExecuteAsync((await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm04", Name = "dup01" })).Plan);
        var ssh = session.Ssh!;
        string? twinId = null;
        try
        {
            // hostd allows a second VM with an existing display name: register a copy of dup01's files as "dup01".
            (await ssh.RunAsync("cp -r /vmfs/volumes/datastore1/dup01 /vmfs/volumes/datastore1/dup01-twin")).EnsureSuccess("bed");
            var reg = (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "solo/registervm", "/vmfs/volumes/datastore1/dup01-twin/dup01.vmx", "dup01"))).EnsureSuccess("bed");
            twinId = reg.Stdout.Trim();

            var e = await Assert.ThrowsAsync<CesoException>(() => vms.PlanRemoveAsync("dup01", keepFiles: true));
            Assert.Equal("AmbiguousVmName", e.ErrorId);
            Assert.Contains(twinId, e.Message);

            var (plan, vm) = await vms.PlanRemoveAsync(twinId, keepFiles: true);
            Assert.Equal(twinId, vm.Id);
            await executor.ExecuteAsync(plan);
            twinId = null;
            Assert.Equal("dup01", (await vms.RefreshAsync("dup01"))!.Name);
        }
        finally
        {
            if (twinId is not null)
            {
                await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/unregister", twinId));
            }

            await ssh.RunAsync("rm -rf /vmfs/volumes/datastore1/dup01-twin");
            await executor.ExecuteAsync((await vms.PlanRemoveAsync("dup01", false)).Plan);
        }
    }

    [Fact]
    public async Task A_hot_copy_releases_the_snapshot_and_the_lock_last()
    {
        var (session, vms, executor) = await OpenAsync(Transport.Ssh);
        await using var _ = session;
        await executor.ExecuteAsync((await vms.PlanPowerAsync("vm03", PowerAction.Start)).Plan);
        try
        {
            var (plan, _) = await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm03", Name = "order01", Hot = true, PowerOn = true });
            var titles = plan.Steps.Select(s => s.Title).ToList();
            Assert.StartsWith("Lock", titles[0]);
            Assert.StartsWith("Power on", titles[^3]);
            Assert.StartsWith("Remove the snapshot", titles[^2]);
            Assert.StartsWith("Unlock", titles[^1]);
            // Both are cleanups of the steps that took the lock and the snapshot: run after success and failure alike,
            // and their failure never undoes the finished copy (A_failing_snapshot_release_keeps_the_finished_copy_and_warns).
            Assert.Equal((StepKind.Cleanup, titles[1]), (plan.Steps[^2].Kind, plan.Steps[^2].Releases));
            Assert.Equal((StepKind.Cleanup, titles[0]), (plan.Steps[^1].Kind, plan.Steps[^1].Releases));
        }
        finally
        {
            await executor.ExecuteAsync((await vms.PlanPowerAsync("vm03", PowerAction.Kill)).Plan);
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> with vm03 powered on (a hot-copy source) and a second SSH session to act behind
    /// Ceso's back; afterwards the copy named <paramref name="copy"/> is removed and vm03 powered off.
    /// </summary>
    private async Task WithRunningSourceAsync(Transport transport, string copy, Func<VmOperations, PlanExecutor, CesoSession, string, Task> body)
    {
        var (session, vms, executor) = await OpenAsync(transport);
        await using var _ = session;
        await using var ssh = await bed.ConnectAsync(Transport.Ssh);
        await executor.ExecuteAsync((await vms.PlanPowerAsync("vm03", PowerAction.Start)).Plan);
        var id = (await vms.RefreshAsync("vm03"))!.Id;
        try
        {
            await body(vms, executor, ssh, id);
        }
        finally
        {
            bed.ClearFaults();
            await ssh.Ssh!.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.removeall", id));
            await ssh.Ssh!.RunAsync("rm -rf /vmfs/volumes/datastore1/vm03/.ceso-hot-copy.lock");
            if (await vms.RefreshAsync(copy) is not null)
            {
                await executor.ExecuteAsync((await vms.PlanRemoveAsync(copy, false)).Plan);
            }

            await executor.ExecuteAsync((await vms.PlanPowerAsync("vm03", PowerAction.Kill)).Plan);
        }
    }

    [Theory]
    [InlineData(Transport.Ssh)]
    [InlineData(Transport.Soap)]
    public Task A_failing_snapshot_release_keeps_the_finished_copy_and_warns(Transport transport) =>
        WithRunningSourceAsync(transport, "release01", async (vms, executor, ssh, id) =>
        {
            var (plan, _) = await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm03", Name = "release01", Hot = true });
            // Someone removes Ceso's snapshot behind its back after the copy, so removing it must fail.
            var sabotage = plan.Steps[0] with
            {
                Title = "Remove the snapshot behind Ceso's back",
                Action = null, // a code step: the sabotage is not a host action of Ceso's
                UndoAction = null,
                Execute = async ct => (await ssh.Ssh!.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.removeall", id), ct)).EnsureSuccess("bed"),
                Undo = null,
                FallbackCommand = null,
                Ran = null,
            };
            var cleanups = plan.Steps.Count(st => st.Kind == StepKind.Cleanup);
            var rigged = plan with { Steps = [.. plan.Steps.SkipLast(cleanups), sabotage, .. plan.Steps.TakeLast(cleanups)] };

            var result = await executor.ExecuteAsync(rigged);

            Assert.Equal(2, result.Warnings.Count);
            Assert.StartsWith("Remove the snapshot Ceso made", result.Warnings[0]);
            Assert.Contains("by hand", result.Warnings[0]);
            Assert.NotNull(await vms.RefreshAsync("release01")); // the finished copy stays
            // The unlock waits on the snapshot's removal (hostd may still be consolidating): the lock stays, and the
            // warning names the folder and the command that removes it.
            Assert.Equal("locked", await LockStateAsync(ssh));
            Assert.StartsWith("Unlock 'vm03' did not run because 'Remove the snapshot Ceso made of 'vm03'' failed", result.Warnings[1]);
            Assert.Contains("the lock folder [datastore1] vm03/.ceso-hot-copy.lock", result.Warnings[1]);
            Assert.Contains(transport == Transport.Ssh ? "rm -rf /vmfs/volumes/datastore1/vm03/.ceso-hot-copy.lock" : "DeleteDatastoreFile_Task(name=\"[datastore1] vm03/.ceso-hot-copy.lock\")", result.Warnings[1]);
        });

    private static async Task<string> LockStateAsync(CesoSession ssh) =>
        (await ssh.Ssh!.RunAsync("test -e /vmfs/volumes/datastore1/vm03/.ceso-hot-copy.lock && echo locked || echo free")).Stdout.Trim();

    [Fact]
    public Task A_snapshot_step_cancelled_after_hostd_made_the_snapshot_still_has_it_removed_by_its_name() =>
        WithRunningSourceAsync(Transport.Soap, "cancel01", async (vms, executor, ssh, id) =>
        {
            var (plan, _) = await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm03", Name = "cancel01", Hot = true });
            using var cts = new CancellationTokenSource();
            // A slow host: every API call takes 1 s. Ctrl+C 1.5 s into the snapshot step lands while Ceso waits on the
            // task hostd has already started (and finishes): the snapshot exists, but Ceso never learnt its id.
            var progress = new InlineProgressForTests<PlanProgress>(p =>
            {
                if (p.Title.StartsWith("Snapshot", StringComparison.Ordinal) && p.StepPercent is null)
                {
                    cts.CancelAfter(TimeSpan.FromMilliseconds(1500));
                }
            });
            bed.Fault("delayMs=1000");
            PlanFailedException e;
            try
            {
                e = await Assert.ThrowsAsync<PlanFailedException>(() => executor.ExecuteAsync(plan, progress, cts.Token));
            }
            finally
            {
                bed.ClearFaults();
            }

            Assert.StartsWith("Snapshot", e.FailedStep);
            Assert.Equal("OperationCancelled", e.ErrorId);
            Assert.Empty(e.Left);
            Assert.Equal(0, (await vms.RefreshAsync("vm03"))!.SnapshotCount);
            Assert.Equal("free", await LockStateAsync(ssh));
            Assert.Null(await vms.RefreshAsync("cancel01"));
        });

    [Fact]
    public Task A_snapshot_step_cut_off_after_vim_cmd_made_the_snapshot_has_it_removed_over_a_new_connection() =>
        WithRunningSourceAsync(Transport.Ssh, "cut01", async (vms, executor, ssh, id) =>
        {
            var (plan, _) = await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm03", Name = "cut01", Hot = true });
            // snapshot.create runs; the connection dies on the snapshot.get that would have told Ceso its id.
            bed.Fault("dropSsh=vmsvc/snapshot.get");
            var e = await Assert.ThrowsAsync<PlanFailedException>(() => executor.ExecuteAsync(plan));

            Assert.StartsWith("Snapshot", e.FailedStep);
            Assert.Equal("SshConnectionLost", e.ErrorId);
            Assert.Empty(e.Left);
            Assert.False(e.FailedStepMayHaveTakenEffect); // its cleanup found out and removed it
            Assert.Equal(0, (await vms.RefreshAsync("vm03"))!.SnapshotCount);
            Assert.Equal("free", await LockStateAsync(ssh));
        });

    [Fact]
    public Task A_lock_step_cut_off_before_the_mkdir_ran_leaves_nothing_and_touches_no_one_elses_lock() =>
        WithRunningSourceAsync(Transport.Ssh, "cutlock01", async (vms, executor, ssh, id) =>
        {
            var (plan, _) = await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm03", Name = "cutlock01", Hot = true });

            // The mkdir never reached the host: its outcome is unknown to Ceso, and the folder is not there.
            bed.Fault("dropSsh=.ceso-hot-copy.lock");
            var e = await Assert.ThrowsAsync<PlanFailedException>(() => executor.ExecuteAsync(plan));
            Assert.StartsWith("Lock", e.FailedStep);
            Assert.Empty(e.Left);
            Assert.Equal("free", await LockStateAsync(ssh));

            // The same, while another hot copy holds the lock: Ceso cannot tell the folder is not its own, so it stays.
            (await ssh.Ssh!.RunAsync("mkdir /vmfs/volumes/datastore1/vm03/.ceso-hot-copy.lock")).EnsureSuccess("bed");
            bed.Fault("dropSsh=.ceso-hot-copy.lock");
            e = await Assert.ThrowsAsync<PlanFailedException>(() => executor.ExecuteAsync(plan));
            var left = Assert.Single(e.Left);
            Assert.StartsWith("Unlock 'vm03' failed (Ceso cannot tell whether this run made the lock folder [datastore1] vm03/.ceso-hot-copy.lock", left);
            Assert.Contains("rm -rf /vmfs/volumes/datastore1/vm03/.ceso-hot-copy.lock", left);
            Assert.Equal("locked", await LockStateAsync(ssh));
            Assert.Equal(0, (await vms.RefreshAsync("vm03"))!.SnapshotCount);
        });

    private sealed class InlineProgressForTests<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    [Theory]
    [InlineData(Transport.Ssh)]
    [InlineData(Transport.Soap)]
    public Task A_hot_copy_removes_only_its_own_snapshot_and_keeps_the_users(Transport transport) =>
        WithRunningSourceAsync(transport, "own01", async (vms, executor, ssh, id) =>
        {
            var (plan, _) = await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm03", Name = "own01", Hot = true });
            // A user takes a snapshot between the preview and the run: "remove all" would delete it.
            (await ssh.Ssh!.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.create", id, "users-own", "keep me", "0", "0"))).EnsureSuccess("bed");

            var result = await executor.ExecuteAsync(plan);

            Assert.Empty(result.Warnings);
            var tree = (await ssh.Ssh!.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.get", id))).Stdout;
            Assert.NotNull(SshHostCommands.SnapshotIdOf(tree, "users-own"));
            Assert.DoesNotContain("ceso-copy-", tree, StringComparison.Ordinal);
            Assert.Equal(1, (await vms.RefreshAsync("vm03"))!.SnapshotCount);
        });

    [Fact]
    public async Task A_protected_vm_gets_no_hot_copy_snapshot_but_can_still_be_copied_cold()
    {
        var (session, vms, executor) = await OpenAsync(Transport.Ssh);
        await using var _ = session;
        // Ceso refuses to power a protected VM, so the test powers it on behind Ceso's back, over the API.
        await using var soap = await bed.ConnectAsync(Transport.Soap);
        var id = (await vms.RefreshAsync("vm04"))!.Id;
        Task Power(string method) => soap.Soap!.InvokeTaskAsync(soap.ServiceContent!.PropertyCollector, method, new Ceso.Engine.Soap.MoRef("VirtualMachine", id), [], default);
        await executor.ExecuteAsync((await vms.PlanProtectionAsync("vm04", true)).Plan);
        try
        {
            Assert.NotEmpty((await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm04", Name = "prot-cold" })).Plan.Steps); // reads only on the source
            await Power("PowerOnVM_Task");

            var e = await Assert.ThrowsAsync<CesoException>(() => vms.PlanCloneAsync(new CloneVmRequest { Source = "vm04", Name = "prot-hot", Hot = true }));
            Assert.Equal("VmProtected", e.ErrorId);
            Assert.Contains("hot-copy snapshot", e.Message);
        }
        finally
        {
            if ((await vms.RefreshAsync("vm04"))!.PowerState == CesoPowerState.PoweredOn)
            {
                await Power("PowerOffVM_Task");
            }

            await executor.ExecuteAsync((await vms.PlanProtectionAsync("vm04", false)).Plan);
        }
    }

    [Theory]
    [InlineData(Transport.Ssh)]
    [InlineData(Transport.Soap)]
    public async Task A_leftover_folder_with_the_new_name_is_refused_before_any_change(Transport transport)
    {
        await using var ssh = await bed.ConnectAsync(Transport.Ssh);
        (await ssh.Ssh!.RunAsync("mkdir /vmfs/volumes/datastore1/leftover01 && echo x > /vmfs/volumes/datastore1/leftover01/notes.txt")).EnsureSuccess("bed");
        try
        {
            var (session, vms, _) = await OpenAsync(transport);
            await using var _ = session;
            var e = await Assert.ThrowsAsync<CesoException>(() => vms.PlanCreateAsync(new CreateVmRequest { Name = "leftover01", Template = "vm01" }));
            Assert.Equal("FolderExists", e.ErrorId);
            Assert.Null(await Record.ExceptionAsync(() => vms.PlanCreateAsync(new CreateVmRequest { Name = "fresh01", Template = "vm01" })));
        }
        finally
        {
            await ssh.Ssh.RunAsync("rm -rf /vmfs/volumes/datastore1/leftover01");
        }
    }

    public static TheoryData<string, CreateVmRequest> BadInput => new()
    {
        { "InvalidIPAddress", new CreateVmRequest { Name = "bad1", Template = "vm01", Guest = new GuestInfoRequest { VmName = "bad1", IPAddresses = ["10.0.0.5"] } } },
        { "GatewayOutsideSubnet", new CreateVmRequest { Name = "bad2", Template = "vm01", Guest = new GuestInfoRequest { VmName = "bad2", IPAddresses = ["10.0.0.5/24"], Gateways = ["192.168.1.1"] } } },
        { "InvalidHostname", new CreateVmRequest { Name = "bad3", Template = "vm01", Guest = new GuestInfoRequest { VmName = "bad3", Hostname = "bad_host" } } },
        { "InvalidVmName", new CreateVmRequest { Name = "web;reboot", Template = "vm01" } },
        { "InvalidVmName", new CreateVmRequest { Name = "$(touch /tmp/pwned)", Template = "vm01" } },
        { "TemplateNotFound", new CreateVmRequest { Name = "bad6", Template = "no-such-template" } },
        { "VmExists", new CreateVmRequest { Name = "vm02", Template = "vm01" } },
        { "DatastoreNotFound", new CreateVmRequest { Name = "bad8", Template = "vm01", Datastore = "nope" } },
        { "NetworkNotFound", new CreateVmRequest { Name = "bad9", Template = "vm01", Network = "No Such PG" } },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public async Task Bad_input_is_refused_before_any_change_with_an_error_naming_it(string errorId, CreateVmRequest request)
    {
        var (session, vms, _) = await OpenAsync(Transport.Auto);
        await using var _ = session;
        var mark = bed.Calls().Count;

        var e = await Assert.ThrowsAsync<CesoException>(() => vms.PlanCreateAsync(request));

        Assert.Equal(errorId, e.ErrorId);
        Assert.NotNull(e.Target);
        Assert.Contains(e.Target!.ToString()!, e.Message);
        Assert.DoesNotContain(bed.CallsSince(mark), c => c.Write && c.Name is not ("Login" or "Logout"));
    }

    [Fact]
    public async Task A_powered_on_template_is_refused()
    {
        var (session, vms, executor) = await OpenAsync(Transport.Ssh);
        await using var _ = session;
        await executor.ExecuteAsync((await vms.PlanPowerAsync("vm04", PowerAction.Start)).Plan);
        try
        {
            var e = await Assert.ThrowsAsync<CesoException>(() => vms.PlanCreateAsync(new CreateVmRequest { Name = "bad10", Template = "vm04" }));
            Assert.Equal("TemplatePoweredOn", e.ErrorId);
        }
        finally
        {
            await executor.ExecuteAsync((await vms.PlanPowerAsync("vm04", PowerAction.Kill)).Plan);
        }
    }
}
