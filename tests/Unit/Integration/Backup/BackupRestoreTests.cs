using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ceso.Engine.Backup;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;
using Ceso.Tests.Integration;

namespace Ceso.Tests.Integration.Backup;

/// <summary>Backup-CesoVm and Restore-CesoVm through the engine against the test bed, over both transports.</summary>
[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class BackupRestoreTests(TestBed bed) : IDisposable
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

    private string LocalDir => bed.Info.Datastores[0].LocalDir;

    private string LocalFlat(string vm) => Path.Combine(LocalDir, vm, vm + "-flat.vmdk");

    [Theory]
    [InlineData(Transport.Ssh)]
    [InlineData(Transport.Soap)]
    public async Task A_cold_backup_restores_as_a_new_vm_byte_for_byte_thin_and_with_a_new_identity(Transport transport)
    {
        var (session, vms, executor) = await bed.OpenOperationsAsync(transport);
        await using var _ = session;
        var name = "bk-cold-" + transport.ToString().ToLowerInvariant();
        var restored = name + "-r";
        try
        {
            await executor.ExecuteAsync((await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm01", Name = name })).Plan);
            var capacity = new FileInfo(LocalFlat(name)).Length;
            WriteData(LocalFlat(name), capacity);

            var repo = await BackupOperations.CreateRepositoryAsync(bed.Home, null, _repoDir, "correct horse", null, null);
            var (plan, run) = await BackupOperations.PlanBackupAsync(session, bed.Home, repo, new BackupVmRequest(name, Tags: ["nightly"]));
            Assert.Contains(plan.Steps, s => s.Title.StartsWith("Back up disk", StringComparison.Ordinal));
            await executor.ExecuteAsync(plan);

            Assert.NotNull(run.Snapshot);
            Assert.Single(run.ReadPaths);
            var backup = await BackupOperations.DescribeAsync(repo, run.Snapshot!.Id);
            Assert.Equal(name, backup.Vm);
            Assert.Equal("Cold", backup.Mode);
            Assert.Equal(["nightly"], backup.Tags);
            var manifest = await repo.Repository.LoadSnapshotAsync(run.Snapshot.Id);
            Assert.Equal(ExpectedBlocks(LocalFlat(name), repo.Repository.BlockSize), manifest.Disks[0].Blocks.Select(b => (b.Index, b.Hash)).ToList());
            Assert.Contains(manifest.Files, f => f.Name == name + ".vmx");

            // A second backup of the unchanged VM sends no block again and stores (almost) nothing new.
            var (plan2, run2) = await BackupOperations.PlanBackupAsync(session, bed.Home, repo, new BackupVmRequest(name));
            await executor.ExecuteAsync(plan2);
            Assert.True(run2.Statistics!.NewBytesStored < 64 * 1024, $"second backup stored {run2.Statistics.NewBytesStored} bytes");

            var restoreSession = session;
            if (transport == Transport.Soap)
            {
                // The API alone can only upload whole files, which would not keep the disk thin: refused before any write.
                var writesBefore = bed.Calls().Count(c => c.Write);
                var refused = await Assert.ThrowsAsync<Ceso.Engine.CesoException>(() => BackupOperations.PlanRestoreAsync(session, bed.Home, repo, new RestoreVmRequest(run.Snapshot.Id[..8], restored)));
                Assert.Equal("DiskWriteNeedsSsh", refused.ErrorId);
                Assert.Equal(writesBefore, bed.Calls().Count(c => c.Write));
                restoreSession = await bed.ConnectAsync(Transport.Auto); // API and SSH: the API writes, SSH writes the blocks
            }

            var (restore, handle) = await BackupOperations.PlanRestoreAsync(restoreSession, bed.Home, repo, new RestoreVmRequest(run.Snapshot.Id[..8], restored));
            var restoredRun = await executor.ExecuteAsync(restore);
            if (!ReferenceEquals(restoreSession, session))
            {
                await restoreSession.DisposeAsync();
            }

            Assert.Equal(await File.ReadAllBytesAsync(LocalFlat(name)), await File.ReadAllBytesAsync(LocalFlat(restored)));
            var allocated = AllocatedBytes(LocalFlat(restored));
            Assert.True(allocated < capacity / 4, $"the restored disk is not thin: {allocated} of {capacity} bytes allocated");
            var source = (await vms.RefreshAsync(name))!;
            var copy = (await vms.RefreshAsync(restored))!;
            Assert.Equal(restoredRun.IdOf(handle), copy.Id);
            Assert.NotEqual(source.BiosUuid, copy.BiosUuid);
            Assert.DoesNotContain(copy.Nics[0].MacAddress, source.Nics.Select(n => n.MacAddress));
        }
        finally
        {
            await RemoveAsync(vms, executor, restored);
            await RemoveAsync(vms, executor, name);
        }
    }

    [Fact]
    public async Task A_running_vm_is_refused_without_hot_and_a_hot_backup_holds_the_disk_as_of_its_snapshot_while_the_guest_writes()
    {
        var (session, vms, executor) = await bed.OpenOperationsAsync(Transport.Ssh);
        await using var _ = session;
        const string name = "bk-hot";
        try
        {
            await executor.ExecuteAsync((await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm01", Name = name })).Plan);
            var capacity = new FileInfo(LocalFlat(name)).Length;
            WriteData(LocalFlat(name), capacity);
            var before = await File.ReadAllBytesAsync(LocalFlat(name));
            await executor.ExecuteAsync((await vms.PlanPowerAsync(name, PowerAction.Start)).Plan);
            var repo = await BackupOperations.CreateRepositoryAsync(bed.Home, null, _repoDir, null, null, null);

            var refused = await Assert.ThrowsAsync<Ceso.Engine.CesoException>(() => BackupOperations.PlanBackupAsync(session, bed.Home, repo, new BackupVmRequest(name)));
            Assert.Equal("VmPoweredOn", refused.ErrorId);

            var writes = Path.Combine(bed.Info.StateDir, "guestwrites.jsonl");
            var seen = File.Exists(writes) ? File.ReadAllLines(writes).Length : 0;
            bed.Fault($"guestWrites=vm={name},offset={3 * MiB + 100},bytes=5000,everyMs=10");
            var (plan, run) = await BackupOperations.PlanBackupAsync(session, bed.Home, repo, new BackupVmRequest(name, Hot: true));
            await executor.ExecuteAsync(plan);
            bed.Fault("guestWrites=off");

            var log = File.ReadAllLines(writes).Skip(seen).Select(l => JsonSerializer.Deserialize<JsonElement>(l)).Where(e => e.GetProperty("vm").GetString() == name).ToList();
            Assert.Contains(log, e => e.GetProperty("target").GetString() == "delta"); // the guest wrote while the snapshot existed
            // As of the snapshot: the writes that went to the base before the first one went to the delta (after the
            // snapshot's removal the guest writes into the base again).
            var firstDelta = log.First(e => e.GetProperty("target").GetString() == "delta").GetProperty("seq").GetInt64();
            var asOfSnapshot = Apply(before, name, log.Where(e => e.GetProperty("seq").GetInt64() < firstDelta));
            var all = Apply(before, name, log);

            var manifest = await repo.Repository.LoadSnapshotAsync(run.Snapshot!.Id);
            Assert.Equal("Hot", manifest.Header.Mode.ToString());
            var backedUp = new byte[capacity];
            await foreach (var block in repo.Repository.ReadDiskAsync(manifest.Disks[0]))
            {
                block.Data!.Value.CopyTo(backedUp.AsMemory((int)(block.Index * manifest.Disks[0].BlockSize)));
            }

            Assert.True(Same(asOfSnapshot, backedUp), $"the backup is not the disk as of the snapshot: {Differ(asOfSnapshot, backedUp)}; vs before the backup: {Differ(before, backedUp)}; vs every write: {Differ(all, backedUp)}; writes: {log.Count}");
            // The snapshot Ceso made is gone, its delta merged: the base holds every write the guest made.
            var vm = (await vms.RefreshAsync(name))!;
            Assert.Equal(0, vm.SnapshotCount);
            Assert.Equal($"[datastore1] {name}/{name}.vmdk", vm.Disks[0].Path);
            var baseNow = await File.ReadAllBytesAsync(LocalFlat(name));
            Assert.True(Same(all, baseNow), "the guest's writes during the backup are not in the base disk");
            Assert.Empty(Directory.GetFiles(Path.Combine(LocalDir, name), "*-00000*"));
        }
        finally
        {
            bed.Fault("guestWrites=off");
            await RemoveAsync(vms, executor, name);
        }
    }

    private static bool Same(byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b);

    // Where two disk images differ: the first offset and how many bytes, for a failure message.
    private static string Differ(byte[] a, byte[] b)
    {
        long first = -1, count = 0;
        for (long i = 0; i < Math.Min(a.LongLength, b.LongLength); i++)
        {
            if (a[i] != b[i])
            {
                first = first < 0 ? i : first;
                count++;
            }
        }

        return first < 0 ? "identical" : $"{count} byte(s) differ from offset {first}";
    }

    private static async Task RemoveAsync(VmOperations vms, PlanExecutor executor, string name)
    {
        var vm = await vms.RefreshAsync(name);
        if (vm is null)
        {
            return;
        }

        if (vm.PowerState == CesoPowerState.PoweredOn)
        {
            await executor.ExecuteAsync((await vms.PlanPowerAsync(name, PowerAction.Kill)).Plan);
        }

        await executor.ExecuteAsync((await vms.PlanRemoveAsync(name, keepFiles: false)).Plan);
    }

    // Random data in scattered places, a block repeated, zeros between, and bytes in the last block.
    private static void WriteData(string flat, long capacity)
    {
        var rng = new Random(7);
        using var f = new FileStream(flat, FileMode.Open, FileAccess.Write);
        var chunk = new byte[3 * MiB + 12345];
        rng.NextBytes(chunk);
        foreach (var at in new long[] { 0, 5L * MiB + 4096, capacity / 2 })
        {
            f.Position = at;
            f.Write(chunk);
        }

        var block = chunk.AsSpan(0, MiB).ToArray();
        f.Position = 64L * MiB;
        f.Write(block);
        f.Position = 80L * MiB;
        f.Write(block);
        f.Position = capacity - 1000;
        f.Write(chunk.AsSpan(0, 1000));
    }

    private static List<(long, BlockHash)> ExpectedBlocks(string flat, int blockSize)
    {
        var list = new List<(long, BlockHash)>();
        var buffer = new byte[blockSize];
        using var f = File.OpenRead(flat);
        for (long i = 0; ; i++)
        {
            var n = f.ReadAtLeast(buffer, blockSize, throwOnEndOfStream: false);
            if (n == 0)
            {
                break;
            }

            if (buffer.AsSpan(0, n).ContainsAnyExcept((byte)0))
            {
                list.Add((i, BlockHash.Of(buffer.AsSpan(0, n))));
            }
        }

        return list;
    }

    // The disk after the guest's writes: each is the test bed's pattern (see testbed/SPEC.md "guest writes").
    private static byte[] Apply(byte[] disk, string vm, IEnumerable<JsonElement> writes)
    {
        var result = (byte[])disk.Clone();
        foreach (var w in writes.OrderBy(e => e.GetProperty("seq").GetInt64()))
        {
            var off = w.GetProperty("offset").GetInt64();
            var len = w.GetProperty("length").GetInt32();
            var line = Encoding.ASCII.GetBytes($"GUEST {vm} seq={w.GetProperty("seq").GetInt64()} off={off}\n");
            for (var i = 0; i < len; i++)
            {
                result[off + i] = line[i % line.Length];
            }
        }

        return result;
    }

    private static long AllocatedBytes(string path)
    {
        var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%b %B", path]) { RedirectStandardOutput = true })!;
        var parts = p.StandardOutput.ReadToEnd().Trim().Split(' ');
        p.WaitForExit();
        return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) * long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
