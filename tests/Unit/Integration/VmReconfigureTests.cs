using Ceso.Engine;
using Ceso.Engine.CloudInit;
using Ceso.Engine.Connection;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;
using Ceso.Engine.Security;
using Ceso.Engine.Shell;

namespace Ceso.Tests.Integration;

[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class VmReconfigureTests(TestBed bed)
{
    private Task<(CesoSession Session, VmOperations Vms, PlanExecutor Executor)> OpenAsync(Transport transport) => bed.OpenOperationsAsync(transport);

    private static async Task WithCopyAsync(VmOperations vms, PlanExecutor executor, string name, Func<Task> body)
    {
        await executor.ExecuteAsync((await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm01", Name = name })).Plan);
        try
        {
            await body();
        }
        finally
        {
            if (await vms.RefreshAsync(name) is { } vm)
            {
                if (vm.PowerState == CesoPowerState.PoweredOn)
                {
                    await executor.ExecuteAsync((await vms.PlanPowerAsync(name, PowerAction.Kill)).Plan);
                }

                if (vm.Annotation?.Contains(VmxIdentity.ProtectedTag) == true)
                {
                    await executor.ExecuteAsync((await vms.PlanProtectionAsync(name, false)).Plan);
                }

                await executor.ExecuteAsync((await vms.PlanRemoveAsync(name, false)).Plan);
            }
        }
    }

    [Theory]
    [InlineData(Transport.Ssh)]
    [InlineData(Transport.Soap)]
    public async Task Cpu_memory_disks_nics_firmware_and_iso_changes_show_in_discovery_over_both_transports(Transport transport)
    {
        var (session, vms, executor) = await OpenAsync(transport);
        await using var _ = session;
        await WithCopyAsync(vms, executor, "recfg01", async () =>
        {
            var before = (await vms.RefreshAsync("recfg01"))!;
            var (plan, _) = await vms.PlanReconfigureAsync(new ReconfigureRequest
            {
                Vm = "recfg01",
                NumCpu = 6,
                MemoryMB = 3072,
                AddDiskGB = 3,
                AddNicNetwork = "Lab Network",
                AdapterType = (0, "e1000e"),
                Firmware = "efi",
                SecureBoot = true,
                Annotation = "rebuilt",
            });
            Assert.Contains(plan.Steps, s => s.Title.Contains("numvcpus = \"6\"", StringComparison.Ordinal));
            // What -WhatIf prints for the rewrite: the upload's content is a placeholder, so the changed keys must be there.
            Assert.Contains(plan.Steps, s => executor.Show(s).Contains($"numvcpus = \"6\" (was \"{before.NumCpu}\")", StringComparison.Ordinal));
            await executor.ExecuteAsync(plan);

            var after = (await vms.RefreshAsync("recfg01"))!;
            Assert.Equal((6, 3072L, "efi", "rebuilt"), (after.NumCpu, after.MemoryMB, after.Firmware, after.Annotation));
            Assert.Equal(before.Disks.Count + 1, after.Disks.Count);
            Assert.Equal(3L << 30, after.Disks[^1].CapacityBytes);
            Assert.Equal(2, after.Nics.Count);
            Assert.Equal("e1000e", after.Nics[0].AdapterType);
            Assert.Equal(("vmxnet3", "Lab Network"), (after.Nics[1].AdapterType, after.Nics[1].Network));

            await using var other = await bed.ConnectAsync(transport == Transport.Ssh ? Transport.Soap : Transport.Ssh);
            var viaOther = (await other.Inventory.GetVmsAsync()).Single(v => v.Name == "recfg01");
            Assert.Equal(System.Text.Json.JsonSerializer.Serialize(after), System.Text.Json.JsonSerializer.Serialize(viaOther));

            var (grow, _) = await vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = "recfg01", ExtendDisk = (0, 2), RemoveNic = 1 });
            await executor.ExecuteAsync(grow);
            var grown = (await vms.RefreshAsync("recfg01"))!;
            Assert.Equal(2L << 30, grown.Disks[0].CapacityBytes);
            Assert.Single(grown.Nics);
        });
    }

    [Fact]
    public async Task The_mac_of_an_added_nic_is_one_no_vm_has_and_this_installation_never_issued_and_is_recorded_when_written()
    {
        var (session, vms, executor) = await OpenAsync(Transport.Ssh);
        await using var _ = session;
        await WithCopyAsync(vms, executor, "macnic01", async () =>
        {
            var request = new ReconfigureRequest { Vm = "macnic01", AddNicNetwork = "Lab Network" };
            var ledger = bed.Home.File("issued-identities.txt");
            string MacOf(Ceso.Engine.Planning.Plan p) =>
                System.Text.RegularExpressions.Regex.Match(string.Join("\n", p.Steps.Select(executor.Show)), "ethernet1.address = \"([0-9a-f:]{17})\"").Groups[1].Value;

            var first = MacOf((await vms.PlanReconfigureAsync(request)).Plan);
            Assert.Matches("^00:50:56:[0-3]", first);
            Assert.Equal(first, MacOf((await vms.PlanReconfigureAsync(request)).Plan)); // planned twice: the same MAC

            // Another installation (or a VM made by hand) already has it: the derivation moves on.
            File.AppendAllText(ledger, Ceso.Engine.Planning.IssuedIdentities.Key(first) + "\n");
            var (plan, _) = await vms.PlanReconfigureAsync(request);
            var second = MacOf(plan);
            Assert.NotEqual(first, second);
            await executor.ExecuteAsync(plan);

            Assert.Equal(second, (await vms.RefreshAsync("macnic01"))!.Nics[1].MacAddress);
            Assert.Contains(Ceso.Engine.Planning.IssuedIdentities.Key(second), File.ReadAllLines(ledger));
        });
    }

    [Fact]
    public async Task A_vmx_written_over_the_api_goes_to_a_temporary_name_and_is_moved_into_place()
    {
        var (session, vms, executor) = await OpenAsync(Transport.Soap);
        await using var _ = session;
        await WithCopyAsync(vms, executor, "atomic01", async () =>
        {
            var mark = bed.Calls().Count;
            var (plan, _) = await vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = "atomic01", NumCpu = 3 });
            // -WhatIf says what is sent: a PUT to a temporary name (drawn at run time), then the move over the .vmx.
            var write = Assert.Single(plan.Steps, s => s.Command.Contains("atomic01.vmx", StringComparison.Ordinal) && s.Command.StartsWith("PUT", StringComparison.Ordinal));
            Assert.StartsWith("PUT /folder/atomic01/.atomic01.vmx.ceso-<8 random hex digits>.part?dsName=datastore1 <", write.Command);
            Assert.Contains("MoveDatastoreFile_Task(sourceName=\"[datastore1] atomic01/.atomic01.vmx.ceso-<8 random hex digits>.part\", destinationName=\"[datastore1] atomic01/atomic01.vmx\", force=true)", write.Command);
            await executor.ExecuteAsync(plan);

            var calls = bed.CallsSince(mark).Where(c => !c.Internal).ToList();
            var put = calls.FindIndex(c => c.Channel == "http" && c.Name.StartsWith("PUT /folder/atomic01/", StringComparison.Ordinal));
            Assert.True(put >= 0, "no PUT of the .vmx");
            Assert.Contains(".part", calls[put].Name, StringComparison.Ordinal); // a temporary name, never straight onto the .vmx
            Assert.Contains(calls.Skip(put), c => c.Channel == "soap" && c.Name == "MoveDatastoreFile_Task");
            Assert.Equal(3, (await vms.RefreshAsync("atomic01"))!.NumCpu);
            // The audit record names the temporary file that was really used.
            var tempName = calls[put].Name["PUT /folder/atomic01/".Length..].Split('?')[0];
            var records = Ceso.Engine.Security.AuditLog.Open(bed.Home, new Ceso.Engine.Security.Redactor()).Read()
                .Where(r => r.Vm == "atomic01" && r.Result == "ok" && r.Command.Contains("MoveDatastoreFile_Task", StringComparison.Ordinal)).ToList();
            Assert.Contains($"sourceName=\"[datastore1] atomic01/{tempName}\"", records[^1].Command, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Re_ip_writes_new_guestinfo_with_a_new_instance_id()
    {
        var (session, vms, executor) = await OpenAsync(Transport.Ssh);
        await using var _ = session;
        await WithCopyAsync(vms, executor, "reip01", async () =>
        {
            var read = async () => VmxFile.Parse((await session.Ssh!.RunAsync(ShellQuote.Join("cat", "/vmfs/volumes/datastore1/reip01/reip01.vmx"))).Stdout);
            var old = GuestInfoBuilder.Decode((await read())["guestinfo.metadata"]!);
            var (plan, _) = await vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = "reip01", Guest = new GuestInfoRequest { VmName = "reip01", IPAddresses = ["172.16.5.9/16"] } });
            await executor.ExecuteAsync(plan);

            var md = System.Text.Json.JsonDocument.Parse(GuestInfoBuilder.Decode((await read())["guestinfo.metadata"]!)).RootElement;
            Assert.Equal("172.16.5.9/16", md.GetProperty("network").GetProperty("ethernets").GetProperty("eth0").GetProperty("addresses")[0].GetString());
            Assert.DoesNotContain(md.GetProperty("instance-id").GetString()!, old);
        });
    }

    [Fact]
    public async Task Changes_to_a_running_vm_are_refused_and_say_to_power_it_off()
    {
        var (session, vms, executor) = await OpenAsync(Transport.Ssh);
        await using var _ = session;
        await WithCopyAsync(vms, executor, "running01", async () =>
        {
            await executor.ExecuteAsync((await vms.PlanPowerAsync("running01", PowerAction.Start)).Plan);
            var e = await Assert.ThrowsAsync<CesoException>(() => vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = "running01", AddDiskGB = 1 }));
            Assert.Equal("VmMustBePoweredOff", e.ErrorId);
            Assert.Contains("Stop-CesoVm", e.Message);
            var cpu = await Assert.ThrowsAsync<CesoException>(() => vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = "running01", NumCpu = 8 }));
            Assert.Equal("HotAddNotPossible", cpu.ErrorId); // no hot-add without the API, and none enabled
            Assert.Contains("Stop-CesoVm", cpu.Message);
        });
    }

    [Theory]
    [InlineData(Transport.Ssh)]
    [InlineData(Transport.Soap)]
    public async Task A_protected_vm_cannot_be_changed_stopped_or_removed_until_unprotected(Transport transport)
    {
        var (session, vms, executor) = await OpenAsync(transport);
        await using var _ = session;
        await WithCopyAsync(vms, executor, "prot01", async () =>
        {
            await executor.ExecuteAsync((await vms.PlanProtectionAsync("prot01", true)).Plan);
            Assert.Contains(VmxIdentity.ProtectedTag, (await vms.RefreshAsync("prot01"))!.Annotation);

            foreach (var attempt in new Func<Task>[]
            {
                () => vms.PlanRemoveAsync("prot01", false),
                () => vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = "prot01", NumCpu = 2 }),
                () => vms.PlanPowerAsync("prot01", PowerAction.Start),
            })
            {
                var e = await Assert.ThrowsAsync<CesoException>(attempt);
                Assert.Equal("VmProtected", e.ErrorId);
                Assert.Contains("Unprotect-CesoVm", e.Message);
            }

            await executor.ExecuteAsync((await vms.PlanProtectionAsync("prot01", false)).Plan);
            Assert.DoesNotContain(VmxIdentity.ProtectedTag, (await vms.RefreshAsync("prot01"))!.Annotation ?? "");
        });
    }

    [Fact]
    public async Task A_running_vm_with_hot_add_takes_more_cpus_and_memory_over_the_api_and_nothing_else()
    {
        var (session, vms, executor) = await OpenAsync(Transport.Auto);
        await using var _ = session;
        await WithCopyAsync(vms, executor, "hotadd01", async () =>
        {
            var e = await RunningAsync(() => vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = "hotadd01", NumCpu = 4 }));
            Assert.Equal("HotAddNotPossible", e.ErrorId);
            Assert.Contains("vcpu.hotadd", e.Message);

            await executor.ExecuteAsync((await vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = "hotadd01", HotAdd = true })).Plan);
            await executor.ExecuteAsync((await vms.PlanPowerAsync("hotadd01", PowerAction.Start)).Plan);
            var (plan, _) = await vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = "hotadd01", NumCpu = 4, MemoryMB = 2048 });
            Assert.Equal("soap", Assert.Single(plan.Steps).Transport);
            Assert.Contains("ReconfigVM_Task", plan.Steps[0].Command);
            await executor.ExecuteAsync(plan);

            var vm = (await vms.RefreshAsync("hotadd01"))!;
            Assert.Equal((CesoPowerState.PoweredOn, 4, 2048L), (vm.PowerState, vm.NumCpu, vm.MemoryMB));
            var shrink = await Assert.ThrowsAsync<CesoException>(() => vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = "hotadd01", NumCpu = 2 }));
            Assert.Equal("HotAddNotPossible", shrink.ErrorId);
            var other = await Assert.ThrowsAsync<CesoException>(() => vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = "hotadd01", NumCpu = 8, AddDiskGB = 1 }));
            Assert.Equal("VmMustBePoweredOff", other.ErrorId);
        });

        async Task<CesoException> RunningAsync(Func<Task> act)
        {
            await executor.ExecuteAsync((await vms.PlanPowerAsync("hotadd01", PowerAction.Start)).Plan);
            try
            {
                return await Assert.ThrowsAsync<CesoException>(act);
            }
            finally
            {
                await executor.ExecuteAsync((await vms.PlanPowerAsync("hotadd01", PowerAction.Kill)).Plan);
            }
        }
    }

    [Fact]
    public async Task A_hot_add_a_free_license_refuses_at_run_time_marks_the_session_so_the_next_plan_refuses_it()
    {
        var (session, vms, executor) = await OpenAsync(Transport.Auto);
        await using var _ = session;
        await WithCopyAsync(vms, executor, "hotfree01", async () =>
        {
            await executor.ExecuteAsync((await vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = "hotfree01", HotAdd = true })).Plan);
            await executor.ExecuteAsync((await vms.PlanPowerAsync("hotfree01", PowerAction.Start)).Plan);
            var (plan, _) = await vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = "hotfree01", NumCpu = 4 }); // planned before the session knows
            bed.Fault("restricted=on");
            try
            {
                var e = await Assert.ThrowsAsync<PlanFailedException>(() => executor.ExecuteAsync(plan));
                Assert.Equal("HotAddNotSupported", e.ErrorId);
                Assert.Contains("Stop-CesoVm", e.Message);
                Assert.True(session.Host.FreeLicense.Detected);

                var next = await Assert.ThrowsAsync<CesoException>(() => vms.PlanReconfigureAsync(new ReconfigureRequest { Vm = "hotfree01", NumCpu = 4 }));
                Assert.Equal("HotAddNotPossible", next.ErrorId);
                Assert.Equal(2, (await vms.RefreshAsync("hotfree01"))!.NumCpu);
                await executor.ExecuteAsync((await vms.PlanPowerAsync("hotfree01", PowerAction.Kill)).Plan); // over SSH now
            }
            finally
            {
                bed.ClearFaults();
            }
        });
    }

    [Fact]
    public async Task A_vm_listed_in_the_protection_file_is_refused()
    {
        var home = new CesoHome(Directory.CreateTempSubdirectory("ceso-prot-").FullName);
        File.WriteAllText(Path.Combine(home.Path, "protected-vms.txt"), "# production\nvm04\n");
        await using var session = await bed.ConnectAsync(Transport.Ssh, home);
        var e = await Assert.ThrowsAsync<CesoException>(() => new VmOperations(session, home).PlanRemoveAsync("vm04", false));
        Assert.Equal("VmProtected", e.ErrorId);
        Assert.Contains("protected-vms.txt", e.Message);
    }
}
