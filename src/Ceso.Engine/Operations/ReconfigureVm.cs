using System.Globalization;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;

namespace Ceso.Engine.Operations;

/// <summary>
/// Set-CesoVm: every change computed once on the VM's .vmx (<see cref="VmxRewrite"/>; docs/decisions.md), plus new
/// disks created thin and disks grown last; raising CPUs or memory of a running VM with hot-add enabled goes through
/// the host's hot-add instead (API only).
/// </summary>
internal sealed class ReconfigureVm(OperationContext context, VmGuards guards)
{
    private static readonly string[] AdapterTypes = ["vmxnet3", "e1000e", "e1000"];

    /// <summary>
    /// Plans Set-CesoVm: the VM's .vmx is rewritten (the old one is the undo) and reloaded, new disks are created
    /// thin, and disks grow last (growing cannot be undone). The VM must be powered off: hostd rewrites the .vmx of a
    /// running VM, and these changes need a power cycle anyway.
    /// </summary>
    public async Task<(Plan Plan, CesoVm Vm)> PlanAsync(ReconfigureRequest r, CancellationToken ct)
    {
        var vm = await VmLookup.FindAsync(context, r.Vm, ct).ConfigureAwait(false);
        guards.CheckNotProtected(vm, "change");
        if (vm.PowerState == CesoPowerState.PoweredOn && r.OnlyCpuOrMemory)
        {
            return (await PlanHotAddAsync(vm, r, ct).ConfigureAwait(false), vm);
        }

        if (vm.PowerState != CesoPowerState.PoweredOff)
        {
            throw new CesoException("VmMustBePoweredOff", CesoErrorKind.InvalidState,
                $"'{vm.Name}' is {vm.PowerState}; these Set-CesoVm changes need it powered off (Stop-CesoVm '{vm.Name}'), then start it again. " +
                "Only raising -NumCpu/-MemoryGB works while it runs, and only with hot-add enabled (Set-CesoVm -HotAdd $true while it is off).")
            { Target = r.Vm, Host = context.Host };
        }

        var rewrite = await VmxRewrite.ReadAsync(context, vm, ct).ConfigureAwait(false);
        var (vmxPath, oldText, vmx) = (rewrite.Path, rewrite.OldText, rewrite.Vmx);
        // New MACs and instance-ids depend on the request and the .vmx as it is now: re-planning gives the same plan.
        var seed = IdentitySeed.For(context.Home, "ReconfigureVm", context.Host, vm.Id, oldText, System.Text.Json.JsonSerializer.Serialize(r));
        var newMacs = new List<string>();
        var changes = new List<string>();
        var notes = new List<string>();
        var target = $"{context.Host}/{vm.Name}";
        var steps = new List<PlanStep>();
        void SetKey(string key, string value)
        {
            var old = vmx[key];
            if (old != value)
            {
                vmx.Set(key, value);
                changes.Add($"{key} = \"{value}\"{(old is null ? "" : $" (was \"{old}\")")}");
            }
        }

        if (r.NumCpu is { } cpu)
        {
            SetKey("numvcpus", Positive(cpu, 1, 768, "NumCpu").ToString(CultureInfo.InvariantCulture));
        }

        if (r.MemoryMB is { } mem)
        {
            SetKey("memSize", Positive(mem, 4, 24 * 1024 * 1024, "MemoryMB").ToString(CultureInfo.InvariantCulture));
        }

        if (r.Annotation is not null)
        {
            SetKey("annotation", r.Annotation);
        }

        if (r.HotAdd is { } hot)
        {
            SetKey("vcpu.hotadd", hot ? "TRUE" : "FALSE");
            SetKey("mem.hotadd", hot ? "TRUE" : "FALSE");
        }

        if (r.Firmware is { } fw)
        {
            fw = fw.ToLowerInvariant();
            if (fw is not ("bios" or "efi"))
            {
                throw context.Invalid("InvalidFirmware", $"Firmware '{r.Firmware}' is neither Bios nor Efi.", r.Firmware);
            }

            SetKey("firmware", fw);
        }

        if (r.SecureBoot is { } sb)
        {
            if (sb && (vmx["firmware"] ?? "bios") != "efi")
            {
                throw context.Invalid("SecureBootNeedsEfi", $"Secure Boot needs UEFI firmware; add -Firmware Efi.", vm.Name);
            }

            SetKey("uefi.secureBoot.enabled", sb ? "TRUE" : "FALSE");
        }

        var nics = vmx.NicIndexes();
        int Nic(int index) => index >= 0 && index < nics.Count ? nics[index]
            : throw context.Invalid("NicNotFound", $"'{vm.Name}' has no network adapter {index}; it has {nics.Count} (0-based).", index.ToString(CultureInfo.InvariantCulture));
        var networks = await context.Session.Inventory.GetNetworksAsync(ct).ConfigureAwait(false);
        string Portgroup(string name) => networks.Any(n => n.Name == name) ? name
            : throw context.Invalid("NetworkNotFound", $"Portgroup '{name}' does not exist on {context.Host}; available: {string.Join(", ", networks.Select(n => n.Name))}.", name);
        if (r.NicNetwork is { } nn)
        {
            SetKey($"ethernet{Nic(nn.Index)}.networkName", Portgroup(nn.Network));
        }

        if (r.AdapterType is { } at)
        {
            var type = at.Type.ToLowerInvariant();
            if (!AdapterTypes.Contains(type))
            {
                throw context.Invalid("InvalidAdapterType", $"Adapter type '{at.Type}' is not one of {string.Join(", ", AdapterTypes)}.", at.Type);
            }

            SetKey($"ethernet{Nic(at.Index)}.virtualDev", type);
        }

        if (r.RemoveNic is { } rm)
        {
            var n = Nic(rm);
            vmx.RemoveWhere(k => k.StartsWith($"ethernet{n}.", StringComparison.OrdinalIgnoreCase));
            changes.Add($"remove ethernet{n}");
        }

        if (r.AddNicNetwork is { } addNet)
        {
            var n = Enumerable.Range(0, 10).FirstOrDefault(i => !nics.Contains(i) && vmx[$"ethernet{i}.present"] is null, -1);
            if (n < 0)
            {
                throw context.Invalid("TooManyNics", $"'{vm.Name}' already has the 10 network adapters a VM can have; remove one first (-RemoveNic).", vm.Name);
            }

            // Like a copy's: a MAC no VM on the host has and this installation never issued, found by retrying the
            // derivation (the same request against the same host state gives the same MAC).
            var issued = new IssuedIdentities(context.Home);
            var taken = VmCopy.Taken(await context.Session.Inventory.GetVmsAsync(ct).ConfigureAwait(false), issued);
            var mac = Enumerable.Range(0, 64).Select(a => VmxIdentity.NewMac(a == 0 ? seed : seed.Retry(a), $"mac-{n}"))
                .FirstOrDefault(m => !taken.Contains(IssuedIdentities.Key(m)))
                ?? throw new CesoException("IdentityExhausted", CesoErrorKind.InvalidState,
                    $"Ceso found no MAC for the new NIC of '{vm.Name}' on {context.Host} that no VM has in 64 tries; the host has too many VMs with static MACs in 00:50:56:00-3F.")
                { Host = context.Host, Target = vm.Name };
            newMacs.Add(mac);
            foreach (var (k, v) in new[] { ("present", "TRUE"), ("virtualDev", "vmxnet3"), ("networkName", Portgroup(addNet)), ("addressType", "static"), ("address", mac) })
            {
                SetKey($"ethernet{n}.{k}", v);
            }
        }

        if (r.IsoPath is not null || r.EjectIso)
        {
            var slot = vmx.Entries.Select(e => e.Key).FirstOrDefault(k => k.EndsWith(".deviceType", StringComparison.OrdinalIgnoreCase)
                && vmx[k]!.StartsWith("cdrom", StringComparison.OrdinalIgnoreCase))?[..^".deviceType".Length] ?? "sata0:0";
            if (r.IsoPath is { } iso)
            {
                var path = DatastorePath.Parse(iso);
                if (slot.StartsWith("sata", StringComparison.OrdinalIgnoreCase))
                {
                    SetKey(slot[..slot.IndexOf(':')] + ".present", "TRUE");
                }

                SetKey(slot + ".present", "TRUE");
                SetKey(slot + ".deviceType", "cdrom-image");
                SetKey(slot + ".fileName", path.Vmfs);
                SetKey(slot + ".startConnected", "TRUE");
            }
            else
            {
                SetKey(slot + ".startConnected", "FALSE");
                SetKey(slot + ".deviceType", "cdrom-raw");
                SetKey(slot + ".fileName", "emptyBackingString");
            }
        }

        if (r.Guest is { } guest)
        {
            var mac = nics.Count > 0 ? vmx[$"ethernet{nics[0]}.address"] ?? vmx[$"ethernet{nics[0]}.generatedAddress"] : null;
            var info = CloudInit.GuestInfoBuilder.Build(guest with { VmName = vm.Name, MacAddress = guest.MacAddress ?? mac, InstanceId = guest.InstanceId ?? "i-" + seed.Hex("instance-id", 16) });
            // A re-IP without new keys or user-data keeps the VM's user-data: only the network (metadata) changes.
            var keepUserData = guest.SshKeys.Count == 0 && guest.ExtraUserData is null && vmx["guestinfo.userdata"] is not null;
            foreach (var (k, v) in info.ExtraConfig.Where(kv => !(keepUserData && kv.Key.StartsWith("guestinfo.userdata", StringComparison.Ordinal))))
            {
                vmx.Set(k, v);
            }

            changes.Add($"guestinfo.metadata/userdata (instance-id {info.InstanceId})");
            notes.AddRange(info.Notes);
            notes.Add("a new cloud-init instance-id makes cloud-init apply the new network at next boot (it also re-runs per-instance modules)");
        }

        if (r.AddDiskGB is { } add)
        {
            var used = vmx.DiskSlots().Where(s => s.StartsWith("scsi0:", StringComparison.OrdinalIgnoreCase)).Select(s => int.Parse(s[6..], CultureInfo.InvariantCulture)).ToHashSet();
            var unit = Enumerable.Range(0, 16).FirstOrDefault(u => u != 7 && !used.Contains(u), -1); // unit 7 is the controller's own
            if (unit < 0)
            {
                throw context.Invalid("NoFreeDiskSlot", $"The first SCSI controller of '{vm.Name}' has no free slot for another disk (15 in use); grow a disk instead (-ExtendDisk).", vm.Name);
            }

            var file = $"{vm.Name}_{vmx.DiskSlots().Count}.vmdk";
            var disk = vmxPath.Folder.Child(file);
            var bytes = Positive(add, 1, 62 * 1024, "AddDiskGB") * 1073741824L;
            steps.Add(context.Step($"Create disk {file} ({add} GB, thin)", target, new CreateDisk(disk, bytes), new DeleteDisk(disk)));
            SetKey("scsi0.present", "TRUE");
            SetKey($"scsi0:{unit}.present", "TRUE");
            SetKey($"scsi0:{unit}.fileName", file);
            SetKey($"scsi0:{unit}.deviceType", "scsi-hardDisk");
        }

        var h = VmRef.Of(vm);
        if (changes.Count > 0)
        {
            // -WhatIf shows a step's notes with its command; the upload's text is a placeholder, so the changes go there.
            var rewriteStep = rewrite.Step($"Rewrite {vmxPath.FileName}: {string.Join("; ", changes)}", target) with { Notes = [$"changes {string.Join("; ", changes)}", .. notes] };
            steps.Add(newMacs.Count == 0 ? rewriteStep : VmCopy.RecordingIdentity(rewriteStep, newMacs));
        }

        if (r.ExtendDisk is { } ext)
        {
            if (ext.Index < 0 || ext.Index >= vm.Disks.Count)
            {
                throw context.Invalid("DiskNotFound", $"'{vm.Name}' has no disk {ext.Index}; it has {vm.Disks.Count} (0-based).", ext.Index.ToString(CultureInfo.InvariantCulture));
            }

            var d = vm.Disks[ext.Index];
            var bytes = ext.SizeGB * 1073741824L;
            if (bytes <= d.CapacityBytes)
            {
                throw context.Invalid("DiskShrink", $"Disk {ext.Index} of '{vm.Name}' is {d.CapacityGB} GB; -ExtendDisk must be larger (disks never shrink).", ext.SizeGB.ToString(CultureInfo.InvariantCulture));
            }

            var path = DatastorePath.Parse(d.Path);
            // hostd learns the new size when it reloads the VM.
            steps.Add(context.Step($"Grow disk {ext.Index} to {ext.SizeGB} GB (cannot be undone)", target, new Sequence([new ExtendDisk(path, bytes), new Reload(h)])));
        }

        return (context.Plan("ReconfigureVm", vm.Name, steps, notes), vm);
    }

    private async Task<Plan> PlanHotAddAsync(CesoVm vm, ReconfigureRequest r, CancellationToken ct)
    {
        var hotVmxPath = DatastorePath.Parse(vm.VmxPath!);
        var vmx = context.ParseVmx(await context.ReadTextAsync(hotVmxPath, ct).ConfigureAwait(false), hotVmxPath);
        CesoException Refuse(string why) => new("HotAddNotPossible", CesoErrorKind.InvalidState,
            $"'{vm.Name}' is running and {why} Stop it (Stop-CesoVm '{vm.Name}') and change it while it is off.") { Target = r.Vm, Host = context.Host };
        if (r.NumCpu is { } cpu && (cpu < vm.NumCpu || !string.Equals(vmx["vcpu.hotadd"], "TRUE", StringComparison.OrdinalIgnoreCase)))
        {
            throw Refuse(cpu < vm.NumCpu ? $"CPUs cannot be removed while it runs ({vm.NumCpu} → {cpu})." : "CPU hot-add is not enabled for it (vcpu.hotadd).");
        }

        if (r.MemoryMB is { } mem && (mem < vm.MemoryMB || !string.Equals(vmx["mem.hotadd"], "TRUE", StringComparison.OrdinalIgnoreCase)))
        {
            throw Refuse(mem < vm.MemoryMB ? $"memory cannot be removed while it runs ({vm.MemoryMB} → {mem} MB)." : "memory hot-add is not enabled for it (mem.hotadd).");
        }

        if (!context.Commands.SupportsHotAdd)
        {
            throw Refuse("hot-add needs the vSphere API (there is no vim-cmd for it); connect with -Credential, or");
        }

        var h = VmRef.Of(vm);
        var title = $"Hot-add to '{vm.Name}': {(r.NumCpu is null ? "" : $"{r.NumCpu} vCPU ")}{(r.MemoryMB is null ? "" : $"{r.MemoryMB} MB")}".TrimEnd();
        var steps = r.NumCpu == vm.NumCpu && r.MemoryMB == vm.MemoryMB ? [] : new List<PlanStep>
        {
            context.Step(title, $"{context.Host}/{vm.Name}", new HotAdd(h, r.NumCpu == vm.NumCpu ? null : r.NumCpu, r.MemoryMB == vm.MemoryMB ? null : r.MemoryMB)),
        };
        return context.Plan("ReconfigureVm", vm.Name, steps, ["hot-add cannot be undone while the VM runs"]);
    }

    private long Positive(long value, long min, long max, string what) =>
        value >= min && value <= max ? value : throw context.Invalid("InvalidValue", $"-{what} {value} is out of range ({min}..{max}).", value.ToString(CultureInfo.InvariantCulture));
}
