using Ceso.Engine;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;
using Ceso.Tests.Integration;

namespace Ceso.Tests.Integration.Backup;

/// <summary>Restore-CesoVm -InPlace through the engine against the test bed.</summary>
[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class RestoreInPlaceTests(TestBed bed) : IDisposable
{
    private const int MiB = 1 << 20;
    private readonly string _repoDir = Path.Combine(Path.GetTempPath(), "ceso-bk-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_repoDir))
        {
            Directory.Delete(_repoDir, true);
        }
    }

    private string Folder(string vm) => Path.Combine(bed.Info.Datastores[0].LocalDir, vm);

    private string LocalFlat(string vm) => Path.Combine(Folder(vm), vm + "-flat.vmdk");

    private static void Scribble(string flat, int seed, params long[] offsets)
    {
        var rng = new Random(seed);
        using var f = new FileStream(flat, FileMode.Open, FileAccess.Write);
        var chunk = new byte[2 * MiB + 777];
        foreach (var at in offsets)
        {
            rng.NextBytes(chunk);
            f.Position = at;
            f.Write(chunk);
        }
    }

    private async Task<(CesoSession Session, VmOperations Vms, PlanExecutor Executor, OpenedRepository Repo, string BackupId, byte[] AtBackup, CesoVm Before)> BackedUpVmAsync(string name, Transport transport = Transport.Auto)
    {
        var (session, vms, executor) = await bed.OpenOperationsAsync(transport);
        await executor.ExecuteAsync((await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm01", Name = name })).Plan);
        var capacity = new FileInfo(LocalFlat(name)).Length;
        Scribble(LocalFlat(name), 1, 0, 9L * MiB, capacity - 3 * MiB);
        var atBackup = await File.ReadAllBytesAsync(LocalFlat(name));
        var repo = await BackupOperations.CreateRepositoryAsync(bed.Home, null, _repoDir, null, null, null);
        var (plan, run) = await BackupOperations.PlanBackupAsync(session, bed.Home, repo, new BackupVmRequest(name));
        await executor.ExecuteAsync(plan);
        return (session, vms, executor, repo, run.Snapshot!.Id, atBackup, (await vms.RefreshAsync(name))!);
    }

    private string[] CesoLeftovers(string vm) => Directory.EnumerateFiles(Folder(vm), "*ceso-*").Select(Path.GetFileName).ToArray()!;

    [Fact]
    public async Task A_vm_goes_back_to_its_backup_keeps_its_identity_and_no_old_or_new_disk_is_left()
    {
        const string name = "rip-ok";
        var (session, vms, executor, repo, id, atBackup, before) = await BackedUpVmAsync(name);
        await using var _ = session;
        try
        {
            // After the backup: the disk changes (and a block that was zero gets data), the VM gets more memory.
            Scribble(LocalFlat(name), 2, 4L * MiB, 40L * MiB);
            await executor.ExecuteAsync((await vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = name, MemoryMB = before.MemoryMB * 2 })).Plan);
            Assert.NotEqual(atBackup, await File.ReadAllBytesAsync(LocalFlat(name)));

            var (plan, handle) = await BackupOperations.PlanRestoreInPlaceAsync(session, bed.Home, repo, new RestoreInPlaceRequest(id[..8]));
            Assert.Contains(plan.Steps, s => s.Title.StartsWith("Check ", StringComparison.Ordinal));
            Assert.Contains(plan.Steps, s => s.Kind == StepKind.Cleanup && s.Title.StartsWith("Delete the old", StringComparison.Ordinal));
            var result = await executor.ExecuteAsync(plan);

            Assert.Empty(result.Warnings);
            Assert.Equal(atBackup, await File.ReadAllBytesAsync(LocalFlat(name)));
            Assert.Empty(CesoLeftovers(name));
            var after = (await vms.RefreshAsync(name))!;
            Assert.Equal(before.Id, after.Id);
            Assert.Equal(before.Id, handle.Id);
            Assert.Equal(before.BiosUuid, after.BiosUuid);
            Assert.Equal(before.Nics.Select(n => n.MacAddress), after.Nics.Select(n => n.MacAddress));
            Assert.Equal(before.MemoryMB, after.MemoryMB); // the configuration is the backup's again
        }
        finally
        {
            await executor.ExecuteAsync((await vms.PlanRemoveAsync(name, keepFiles: false)).Plan);
        }
    }

    [Fact]
    public async Task A_restore_that_fails_after_the_swap_leaves_the_vm_as_it_was_and_removes_what_it_wrote()
    {
        const string name = "rip-fail";
        var (session, vms, executor, repo, id, _, before) = await BackedUpVmAsync(name, Transport.Ssh);
        await using var _ = session;
        try
        {
            Scribble(LocalFlat(name), 3, 6L * MiB);
            var changed = await File.ReadAllBytesAsync(LocalFlat(name));
            var vmxBefore = await File.ReadAllTextAsync(Path.Combine(Folder(name), name + ".vmx"));
            var (plan, _) = await BackupOperations.PlanRestoreInPlaceAsync(session, bed.Home, repo, new RestoreInPlaceRequest(id));

            // The last change (write the .vmx, reload) fails when the disks are already swapped: all of it is undone.
            bed.Fault("dropSsh=vmsvc/reload");
            try
            {
                var failed = await Assert.ThrowsAsync<PlanFailedException>(() => executor.ExecuteAsync(plan));
                Assert.Contains(failed.Undone, u => u.Contains("Put the restored", StringComparison.Ordinal));
                Assert.Contains(failed.Undone, u => u.Contains("Set aside", StringComparison.Ordinal));
            }
            finally
            {
                bed.ClearFaults();
            }

            Assert.Equal(changed, await File.ReadAllBytesAsync(LocalFlat(name)));
            Assert.Empty(CesoLeftovers(name));

            // A datastore that fills up while the restored disk is written: nothing of the VM was touched yet.
            plan = (await BackupOperations.PlanRestoreInPlaceAsync(session, bed.Home, repo, new RestoreInPlaceRequest(id))).Plan;
            bed.Fault($"datastoreFull={bed.Info.Datastores[0].Name}");
            try
            {
                await Assert.ThrowsAsync<PlanFailedException>(() => executor.ExecuteAsync(plan));
            }
            finally
            {
                bed.ClearFaults();
            }

            Assert.Equal(changed, await File.ReadAllBytesAsync(LocalFlat(name)));
            Assert.Equal(vmxBefore, await File.ReadAllTextAsync(Path.Combine(Folder(name), name + ".vmx")));
            Assert.Empty(CesoLeftovers(name));
            Assert.Equal(before.BiosUuid, (await vms.RefreshAsync(name))!.BiosUuid);
        }
        finally
        {
            await executor.ExecuteAsync((await vms.PlanRemoveAsync(name, keepFiles: false)).Plan);
        }
    }

    [Fact]
    public async Task A_running_vm_a_changed_disk_layout_and_a_missing_vm_are_refused_before_anything_is_written()
    {
        const string name = "rip-refused";
        var (session, vms, executor, repo, id, _, _) = await BackedUpVmAsync(name);
        await using var _ = session;
        try
        {
            var writes = bed.Calls().Count(c => c.Write);
            await Assert.ThrowsAsync<CesoException>(() => BackupOperations.PlanRestoreInPlaceAsync(session, bed.Home, repo, new RestoreInPlaceRequest(id, Vm: "no-such-vm")))
                .ContinueWith(t => Assert.Contains("-AsNew", t.Result.Message, StringComparison.Ordinal));

            await executor.ExecuteAsync((await vms.PlanPowerAsync(name, PowerAction.Start)).Plan);
            var on = await Assert.ThrowsAsync<CesoException>(() => BackupOperations.PlanRestoreInPlaceAsync(session, bed.Home, repo, new RestoreInPlaceRequest(id)));
            Assert.Equal("VmPoweredOn", on.ErrorId);
            await executor.ExecuteAsync((await vms.PlanPowerAsync(name, PowerAction.Kill)).Plan);

            var other = await Assert.ThrowsAsync<CesoException>(() => BackupOperations.PlanRestoreInPlaceAsync(session, bed.Home, repo, new RestoreInPlaceRequest(id, Vm: "vm02")));
            Assert.Equal("DiskLayoutChanged", other.ErrorId);

            // A leftover from an earlier restore is never overwritten.
            File.WriteAllText(Path.Combine(Folder(name), name + "-ceso-old.vmdk"), "x");
            var leftover = await Assert.ThrowsAsync<CesoException>(() => BackupOperations.PlanRestoreInPlaceAsync(session, bed.Home, repo, new RestoreInPlaceRequest(id)));
            Assert.Equal("RestoreLeftover", leftover.ErrorId);
            File.Delete(Path.Combine(Folder(name), name + "-ceso-old.vmdk"));
            Assert.Equal(writes + 2, bed.Calls().Count(c => c.Write)); // the power on and off, nothing else
        }
        finally
        {
            await executor.ExecuteAsync((await vms.PlanRemoveAsync(name, keepFiles: false)).Plan);
        }
    }
}
