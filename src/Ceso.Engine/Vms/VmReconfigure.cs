using System.Globalization;
using Ceso.Engine.CloudInit;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Security;

namespace Ceso.Engine.Vms;

/// <summary>Set-CesoVm: what to change. Null/false means "leave as it is".</summary>
public sealed record ReconfigureRequest
{
    /// <summary>The VM (name or id).</summary>
    public required string Vm { get; init; }
    /// <summary>vCPUs.</summary>
    public int? NumCpu { get; init; }
    /// <summary>Memory in MiB.</summary>
    public long? MemoryMB { get; init; }
    /// <summary>Add a new thin disk of this size (GiB).</summary>
    public int? AddDiskGB { get; init; }
    /// <summary>Grow disk Index (0-based) to SizeGB.</summary>
    public (int Index, int SizeGB)? ExtendDisk { get; init; }
    /// <summary>Add a vmxnet3 NIC on this portgroup.</summary>
    public string? AddNicNetwork { get; init; }
    /// <summary>Remove the NIC with this index (0-based among NICs).</summary>
    public int? RemoveNic { get; init; }
    /// <summary>Change NIC Index's adapter type (vmxnet3, e1000e, e1000).</summary>
    public (int Index, string Type)? AdapterType { get; init; }
    /// <summary>Connect NIC Index to this portgroup.</summary>
    public (int Index, string Network)? NicNetwork { get; init; }
    /// <summary>bios or efi.</summary>
    public string? Firmware { get; init; }
    /// <summary>UEFI Secure Boot on or off (needs efi).</summary>
    public bool? SecureBoot { get; init; }
    /// <summary>Connect this ISO ("[ds] path.iso").</summary>
    public string? IsoPath { get; init; }
    /// <summary>Disconnect the ISO.</summary>
    public bool EjectIso { get; init; }
    /// <summary>New cloud-init guestinfo (re-IP); gets a new instance-id so cloud-init applies it at next boot.</summary>
    public GuestInfoRequest? Guest { get; init; }
    /// <summary>New notes.</summary>
    public string? Annotation { get; init; }
    /// <summary>Enable (or disable) CPU and memory hot-add, so later increases work while the VM runs.</summary>
    public bool? HotAdd { get; init; }

    /// <summary>True when the request only raises CPUs and/or memory (the one change a running VM can take).</summary>
    internal bool OnlyCpuOrMemory => (NumCpu is not null || MemoryMB is not null) && AddDiskGB is null && ExtendDisk is null
        && AddNicNetwork is null && RemoveNic is null && AdapterType is null && NicNetwork is null && Firmware is null
        && SecureBoot is null && IsoPath is null && !EjectIso && Guest is null && Annotation is null && HotAdd is null;
}

public sealed partial class VmOperations
{
    private static readonly string[] AdapterTypes = ["vmxnet3", "e1000e", "e1000"];

    /// <summary>
    /// Plans Set-CesoVm: the VM's .vmx is rewritten (the old one is the undo) and reloaded, new disks are created
    /// thin, and disks grow last (growing cannot be undone). The VM must be powered off: hostd rewrites the .vmx of a
    /// running VM, and these changes need a power cycle anyway.
    /// </summary>
    public async Task<(Plan Plan, CesoVm Vm)> PlanReconfigureAsync(ReconfigureRequest r, CancellationToken ct = default)
    {
        var vm = Find(await _session.Inventory.GetVmsAsync(ct).ConfigureAwait(false), r.Vm, "VmNotFound", "VM");
        CheckNotProtected(vm, "change");
        if (vm.PowerState == CesoPowerState.PoweredOn && r.OnlyCpuOrMemory)
        {
            return (await PlanHotAddAsync(vm, r, ct).ConfigureAwait(false), vm);
        }

        if (vm.PowerState != CesoPowerState.PoweredOff)
        {
            throw new CesoException("VmMustBePoweredOff", CesoErrorKind.InvalidState,
                $"'{vm.Name}' is {vm.PowerState}; these Set-CesoVm changes need it powered off (Stop-CesoVm '{vm.Name}'), then start it again. " +
                "Only raising -NumCpu/-MemoryGB works while it runs, and only with hot-add enabled (Set-CesoVm -HotAdd $true while it is off).")
            { Target = r.Vm, Host = Host };
        }

        var vmxPath = DatastorePath.Parse(vm.VmxPath ?? throw Invalid("VmxPathUnknown", $"The host does not say where the .vmx of '{vm.Name}' is.", vm.Name));
        var oldText = await ReadTextAsync(vmxPath, ct).ConfigureAwait(false);
        var vmx = ParseVmx(oldText, vmxPath);
        // New MACs and instance-ids depend on the request and the .vmx as it is now: re-planning gives the same plan.
        var seed = IdentitySeed.For(_home, "ReconfigureVm", Host, vm.Id, oldText, System.Text.Json.JsonSerializer.Serialize(r));
        var changes = new List<string>();
        var notes = new List<string>();
        var target = $"{Host}/{vm.Name}";
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
                throw Invalid("InvalidFirmware", $"Firmware '{r.Firmware}' is neither Bios nor Efi.", r.Firmware);
            }

            SetKey("firmware", fw);
        }

        if (r.SecureBoot is { } sb)
        {
            if (sb && (vmx["firmware"] ?? "bios") != "efi")
            {
                throw Invalid("SecureBootNeedsEfi", $"Secure Boot needs UEFI firmware; add -Firmware Efi.", vm.Name);
            }

            SetKey("uefi.secureBoot.enabled", sb ? "TRUE" : "FALSE");
        }

        var nics = vmx.NicIndexes();
        int Nic(int index) => index >= 0 && index < nics.Count ? nics[index]
            : throw Invalid("NicNotFound", $"'{vm.Name}' has no network adapter {index}; it has {nics.Count} (0-based).", index.ToString(CultureInfo.InvariantCulture));
        var networks = await _session.Inventory.GetNetworksAsync(ct).ConfigureAwait(false);
        string Portgroup(string name) => networks.Any(n => n.Name == name) ? name
            : throw Invalid("NetworkNotFound", $"Portgroup '{name}' does not exist on {Host}; available: {string.Join(", ", networks.Select(n => n.Name))}.", name);
        if (r.NicNetwork is { } nn)
        {
            SetKey($"ethernet{Nic(nn.Index)}.networkName", Portgroup(nn.Network));
        }

        if (r.AdapterType is { } at)
        {
            var type = at.Type.ToLowerInvariant();
            if (!AdapterTypes.Contains(type))
            {
                throw Invalid("InvalidAdapterType", $"Adapter type '{at.Type}' is not one of {string.Join(", ", AdapterTypes)}.", at.Type);
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
                throw Invalid("TooManyNics", $"'{vm.Name}' already has the 10 network adapters a VM can have; remove one first (-RemoveNic).", vm.Name);
            }

            var mac = VmxIdentity.NewMac(seed, $"mac-{n}");
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
            var info = GuestInfoBuilder.Build(guest with { VmName = vm.Name, MacAddress = guest.MacAddress ?? mac, InstanceId = guest.InstanceId ?? "i-" + seed.Hex("instance-id", 16) });
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
                throw Invalid("NoFreeDiskSlot", $"The first SCSI controller of '{vm.Name}' has no free slot for another disk (15 in use); grow a disk instead (-ExtendDisk).", vm.Name);
            }

            var file = $"{vm.Name}_{vmx.DiskSlots().Count}.vmdk";
            var disk = vmxPath.Folder.Child(file);
            var bytes = Positive(add, 1, 62 * 1024, "AddDiskGB") * 1073741824L;
            steps.Add(Step($"Create disk {file} ({add} GB, thin)", target, t => t.CreateDisk(disk, bytes), t => t.DeleteDisk(disk)));
            SetKey("scsi0.present", "TRUE");
            SetKey($"scsi0:{unit}.present", "TRUE");
            SetKey($"scsi0:{unit}.fileName", file);
            SetKey($"scsi0:{unit}.deviceType", "scsi-hardDisk");
        }

        var newText = vmx.ToString();
        var h = new VmHandle(vm.Name, vm.Id);
        if (changes.Count > 0)
        {
            // -WhatIf shows a step's notes with its command; the upload's text is a placeholder, so the changes go there.
            steps.Add(Step($"Rewrite {vmxPath.FileName}: {string.Join("; ", changes)}", target,
                t => RewriteVmx(t, vmxPath, newText, oldText, h),
                t => RewriteVmx(t, vmxPath, oldText, newText, h)) with { Notes = [$"changes {string.Join("; ", changes)}", .. notes] });
        }

        if (r.ExtendDisk is { } ext)
        {
            if (ext.Index < 0 || ext.Index >= vm.Disks.Count)
            {
                throw Invalid("DiskNotFound", $"'{vm.Name}' has no disk {ext.Index}; it has {vm.Disks.Count} (0-based).", ext.Index.ToString(CultureInfo.InvariantCulture));
            }

            var d = vm.Disks[ext.Index];
            var bytes = ext.SizeGB * 1073741824L;
            if (bytes <= d.CapacityBytes)
            {
                throw Invalid("DiskShrink", $"Disk {ext.Index} of '{vm.Name}' is {d.CapacityGB} GB; -ExtendDisk must be larger (disks never shrink).", ext.SizeGB.ToString(CultureInfo.InvariantCulture));
            }

            var path = DatastorePath.Parse(d.Path);
            // hostd learns the new size when it reloads the VM.
            steps.Add(Step($"Grow disk {ext.Index} to {ext.SizeGB} GB (cannot be undone)", target, t => Both(t.ExtendDisk(path, bytes), t.Reload(h))));
        }

        return (new Plan { Operation = "ReconfigureVm", Host = Host, Vm = vm.Name, Steps = steps, Notes = notes }, vm);
    }

    private async Task<Plan> PlanHotAddAsync(CesoVm vm, ReconfigureRequest r, CancellationToken ct)
    {
        var hotVmxPath = DatastorePath.Parse(vm.VmxPath!);
        var vmx = ParseVmx(await ReadTextAsync(hotVmxPath, ct).ConfigureAwait(false), hotVmxPath);
        CesoException Refuse(string why) => new("HotAddNotPossible", CesoErrorKind.InvalidState,
            $"'{vm.Name}' is running and {why} Stop it (Stop-CesoVm '{vm.Name}') and change it while it is off.") { Target = r.Vm, Host = Host };
        if (r.NumCpu is { } cpu && (cpu < vm.NumCpu || !string.Equals(vmx["vcpu.hotadd"], "TRUE", StringComparison.OrdinalIgnoreCase)))
        {
            throw Refuse(cpu < vm.NumCpu ? $"CPUs cannot be removed while it runs ({vm.NumCpu} → {cpu})." : "CPU hot-add is not enabled for it (vcpu.hotadd).");
        }

        if (r.MemoryMB is { } mem && (mem < vm.MemoryMB || !string.Equals(vmx["mem.hotadd"], "TRUE", StringComparison.OrdinalIgnoreCase)))
        {
            throw Refuse(mem < vm.MemoryMB ? $"memory cannot be removed while it runs ({vm.MemoryMB} → {mem} MB)." : "memory hot-add is not enabled for it (mem.hotadd).");
        }

        if (!_commands.SupportsHotAdd)
        {
            throw Refuse("hot-add needs the vSphere API (there is no vim-cmd for it); connect with -Credential, or");
        }

        var h = new VmHandle(vm.Name, vm.Id);
        var call = _commands.HotAdd(h, r.NumCpu == vm.NumCpu ? null : r.NumCpu, r.MemoryMB == vm.MemoryMB ? null : r.MemoryMB);
        var steps = r.NumCpu == vm.NumCpu && r.MemoryMB == vm.MemoryMB ? [] : new List<PlanStep>
        {
            new()
            {
                Title = $"Hot-add to '{vm.Name}': {(r.NumCpu is null ? "" : $"{r.NumCpu} vCPU ")}{(r.MemoryMB is null ? "" : $"{r.MemoryMB} MB")}".TrimEnd(),
                Target = $"{Host}/{vm.Name}",
                Transport = call.Transport,
                Command = call.Command,
                Ran = call.Ran,
                Execute = call.Run,
            },
        };
        return new Plan { Operation = "ReconfigureVm", Host = Host, Vm = vm.Name, Steps = steps, Notes = ["hot-add cannot be undone while the VM runs"] };
    }

    /// <summary>Plans Protect-CesoVm / Unprotect-CesoVm: the tag in the VM's notes.</summary>
    public async Task<(Plan Plan, CesoVm Vm)> PlanProtectionAsync(string vmName, bool protect, CancellationToken ct = default)
    {
        var vm = Find(await _session.Inventory.GetVmsAsync(ct).ConfigureAwait(false), vmName, "VmNotFound", "VM");
        var notes = vm.Annotation ?? "";
        var has = notes.Contains(VmxIdentity.ProtectedTag, StringComparison.Ordinal);
        if (has == protect)
        {
            return (new Plan { Operation = protect ? "ProtectVm" : "UnprotectVm", Host = Host, Vm = vm.Name, Steps = [] }, vm);
        }

        var newNotes = protect ? (notes.Length == 0 ? VmxIdentity.ProtectedTag : notes + "\n" + VmxIdentity.ProtectedTag)
            : notes.Replace("\n" + VmxIdentity.ProtectedTag, "", StringComparison.Ordinal).Replace(VmxIdentity.ProtectedTag, "", StringComparison.Ordinal);
        // Not refused by the protection itself: this is the one change that lifts it.
        var vmxPath = DatastorePath.Parse(vm.VmxPath ?? throw Invalid("VmxPathUnknown", $"The host does not say where the .vmx of '{vm.Name}' is.", vm.Name));
        var oldText = await ReadTextAsync(vmxPath, ct).ConfigureAwait(false);
        var vmx = ParseVmx(oldText, vmxPath);
        vmx.Set("annotation", newNotes);
        var newText = vmx.ToString();
        var h = new VmHandle(vm.Name, vm.Id);
        var step = Step($"{(protect ? "Add" : "Remove")} {VmxIdentity.ProtectedTag} in the notes of '{vm.Name}'", $"{Host}/{vm.Name}",
            t => RewriteVmx(t, vmxPath, newText, oldText, h), t => RewriteVmx(t, vmxPath, oldText, newText, h));
        return (new Plan { Operation = protect ? "ProtectVm" : "UnprotectVm", Host = Host, Vm = vm.Name, Steps = [step] }, vm);
    }

    /// <summary>
    /// Writes a VM's .vmx and reloads the VM. If the reload fails, the previous file is put back (and reloaded) before
    /// the error goes up: a failed step must not leave a changed .vmx behind while the plan reports the host unchanged.
    /// </summary>
    private static HostCall RewriteVmx(IHostCommands t, DatastorePath vmx, string text, string previous, VmHandle vm)
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

    private static HostCall Both(HostCall a, HostCall b) =>
        new(a.Transport, () => $"{a.Command} && {b.Command}", async ct =>
        {
            await a.Run(ct).ConfigureAwait(false);
            await b.Run(ct).ConfigureAwait(false);
        });

    private long Positive(long value, long min, long max, string what) =>
        value >= min && value <= max ? value : throw Invalid("InvalidValue", $"-{what} {value} is out of range ({min}..{max}).", value.ToString(CultureInfo.InvariantCulture));
}
