using Ceso.Engine.CloudInit;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;

namespace Ceso.Engine.Operations;

/// <summary>What a copy of a VM (from a template or a clone) is to become.</summary>
/// <param name="Operation">The plan's operation (CreateVm, CloneVm); also a fact of the new identity.</param>
/// <param name="Source">The VM whose disks and .vmx are copied.</param>
/// <param name="Vms">Every VM on the host (the new name must be new).</param>
/// <param name="Name">The new VM's name (also its folder and file base name).</param>
/// <param name="Guest">cloud-init input for the copy, or null.</param>
/// <param name="Datastore">Where the copy goes (null = the source's datastore).</param>
/// <param name="Network">Portgroup for the first NIC (null = the source's).</param>
/// <param name="NumCpu">vCPUs (null = the source's).</param>
/// <param name="MemoryMB">Memory (null = the source's).</param>
/// <param name="DiskGB">Size of the first disk; grown when larger than the source's, never shrunk.</param>
/// <param name="Hot">Copy a running source through <see cref="HotCopy"/>.</param>
/// <param name="PowerOn">Power the copy on at the end.</param>
/// <param name="ExtraVmx">.vmx keys set in the copy after its identity and guestinfo (a boot probe's serial port); null = none.</param>
internal sealed record CopySpec(string Operation, CesoVm Source, IReadOnlyList<CesoVm> Vms, string Name, GuestInfoRequest? Guest,
    string? Datastore, string? Network, int? NumCpu, long? MemoryMB, int? DiskGB, bool Hot, bool PowerOn,
    IReadOnlyDictionary<string, string>? ExtraVmx = null);

/// <summary>
/// The sequence New-CesoVm and Copy-CesoVm share. Standalone hostd has no CloneVM_Task, so a copy is: a new folder,
/// each disk copied thin, the source's .vmx rewritten with a new identity and guestinfo, register, optionally power
/// on — inside a <see cref="HotCopy"/> when the source runs. Everything is read and checked first, so bad input fails
/// before any change.
/// </summary>
internal sealed class VmCopy(OperationContext context, VmGuards guards)
{
    private string Host => context.Host;

    /// <summary>The copy's plan and the reference of the new VM (a run learns its id: <see cref="PlanResult.IdOf"/>).</summary>
    public async Task<(Plan Plan, VmRef Vm)> PlanAsync(CopySpec c, CancellationToken ct)
    {
        var (source, name) = (c.Source, c.Name);
        guards.ValidateName(name);
        if (c.Vms.Any(v => v.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
        {
            throw context.Invalid("VmExists", $"A VM named '{name}' already exists on {Host}. Choose another name.", name);
        }

        if (source.SnapshotCount > 0)
        {
            throw context.Invalid("SourceHasSnapshots", $"'{source.Name}' has {source.SnapshotCount} snapshot(s); copying it would copy only its base disks. Remove or consolidate them first (vim-cmd vmsvc/snapshot.removeall).", source.Name);
        }

        if (source.Disks.FirstOrDefault(d => d.Mode?.StartsWith("independent", StringComparison.Ordinal) == true) is { } independent)
        {
            throw context.Invalid("IndependentDisk", $"'{source.Name}' has an independent disk ({independent.Path}); snapshots do not cover it, so a copy would not be consistent. Change its mode to dependent first.", source.Name);
        }

        var sourceVmx = context.VmxPathOf(source);
        var ds = c.Datastore ?? sourceVmx.Datastore;
        await CheckPlacementAsync(ds, c.Network, ct).ConfigureAwait(false);
        var folder = new DatastorePath(ds, name);
        var vmxPath = folder.Child(name + ".vmx");
        if (await context.ExistsAsync(folder, ct).ConfigureAwait(false))
        {
            throw context.Invalid("FolderExists", $"The folder {folder} already exists on {Host}; Ceso never writes into an existing folder. Choose another name or remove the folder.", name);
        }

        var vmxText = await context.ReadTextAsync(sourceVmx, ct).ConfigureAwait(false);
        // The same request against the same source gives the same new identity: -WhatIf shows what the run writes.
        var baseSeed = IdentitySeed.For(context.Home, c.Operation, Host, source.Id, vmxText, name, System.Text.Json.JsonSerializer.Serialize(c.Guest), ds, c.Network,
            c.NumCpu?.ToString(System.Globalization.CultureInfo.InvariantCulture), c.MemoryMB?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            c.DiskGB?.ToString(System.Globalization.CultureInfo.InvariantCulture), c.Hot ? "hot" : "cold", c.PowerOn ? "on" : "off");
        var issued = new IssuedIdentities(context.Home);
        var (seed, rewrite) = NewIdentity(baseSeed, context.ParseVmx(vmxText, sourceVmx), new VmxIdentity.Target(name, c.NumCpu, c.MemoryMB, c.Network, new Dictionary<string, string>(), null),
            Taken(c.Vms, issued));
        var info = GuestInfoBuilder.Build(GuestRequest(c.Guest, name, seed, rewrite.Macs));
        foreach (var (key, value) in info.ExtraConfig.Concat(c.ExtraVmx ?? new Dictionary<string, string>()))
        {
            rewrite.Vmx.Set(key, value);
        }

        var vm = new VmRef(name);
        var target = $"{Host}/{name}";
        var steps = new List<PlanStep>();
        var hot = c.Hot ? HotCopy.For(context, source, sourceVmx, new SnapshotRef($"ceso-copy-{name}-{seed.Hex("snapshot", 4)}")) : null;
        steps.AddRange(hot?.Acquire ?? []);
        var createFolder = $"Create folder {folder}";
        steps.Add(context.Step(createFolder, target, new MakeDirectory(folder), new DeleteDirectory(folder))
            with { UndoBound = OperationContext.FolderUndoBound(source.Disks.Sum(d => d.CapacityBytes)) });
        foreach (var (from, to) in rewrite.Disks)
        {
            var sourceDisk = ResolveDisk(sourceVmx, from);
            var targetDisk = folder.Child(to);
            steps.Add(context.Step($"Copy disk {sourceDisk.FileName} thin", target, new CopyDisk(sourceDisk, targetDisk), new DeleteDisk(targetDisk), inside: createFolder));
        }

        var notes = info.Notes.ToList();
        if (GrowStep(c, rewrite, folder, target, createFolder) is { } grow)
        {
            steps.Add(grow);
        }

        var finalVmx = rewrite.Vmx.ToString();
        notes.Add($"new BIOS UUID {VmxIdentity.ApiUuid(rewrite.BiosUuid)}, MAC(s) {string.Join(", ", rewrite.Macs)}, cloud-init instance-id {info.InstanceId}");
        // The .vmx carries the guestinfo, so the choices made for the user are shown with the step that writes it.
        var writeVmx = context.Step($"Write {vmxPath.FileName}", target, new WriteFile(vmxPath, finalVmx), coveredBy: $"removed with the folder {folder}", inside: createFolder) with { Notes = notes.ToList() };
        steps.Add(RecordingIdentity(writeVmx, [rewrite.BiosUuid, .. rewrite.Macs]));
        steps.Add(context.Step($"Register '{name}'", target, new Register(vmxPath, vm), new Unregister(vm)));
        if (c.PowerOn)
        {
            steps.Add(context.Step($"Power on '{name}'", target, new PowerOn(vm), new PowerOff(vm)));
        }

        steps.AddRange(hot?.Release ?? []);
        return (context.Plan(c.Operation, name, steps, notes), vm);
    }

    /// <summary>
    /// The copy's identity: derived from <paramref name="seed"/>, or — when its BIOS UUID or a MAC is one a VM on the host
    /// has, or one this installation issued before — from <see cref="IdentitySeed.Retry"/> 1, 2, … until none is. A
    /// MAC has 22 random bits, so among a few hundred VMs a collision is rare but not negligible; the retry is part of
    /// the derivation, so the same request against the same host state still gives the same identity.
    /// </summary>
    private (IdentitySeed Seed, VmxIdentity.Result Rewrite) NewIdentity(IdentitySeed seed, VmxFile source, VmxIdentity.Target target, IReadOnlySet<string> taken)
    {
        for (var attempt = 0; attempt < 64; attempt++)
        {
            var s = attempt == 0 ? seed : seed.Retry(attempt);
            var rewrite = VmxIdentity.Rewrite(source, target, s);
            var keys = rewrite.Macs.Select(IssuedIdentities.Key).Append(IssuedIdentities.Key(rewrite.BiosUuid)).ToList();
            if (keys.Distinct(StringComparer.Ordinal).Count() == keys.Count && !keys.Any(taken.Contains))
            {
                return (s, rewrite);
            }
        }

        throw new CesoException("IdentityExhausted", CesoErrorKind.InvalidState,
            $"Ceso found no BIOS UUID and MACs for '{target.Name}' on {Host} that no VM has in 64 tries; the host has too many VMs with static MACs in 00:50:56:00-3F.")
        { Host = Host, Target = target.Name };
    }

    // Every BIOS UUID and MAC of the host's VMs (the inventory the plan read) and every one this installation issued.
    internal static HashSet<string> Taken(IReadOnlyList<CesoVm> vms, IssuedIdentities issued)
    {
        var taken = new HashSet<string>(issued.Read(), StringComparer.Ordinal);
        foreach (var vm in vms)
        {
            if (vm.BiosUuid is { Length: > 0 } uuid)
            {
                taken.Add(IssuedIdentities.Key(uuid));
            }

            foreach (var nic in vm.Nics)
            {
                if (nic.MacAddress is { Length: > 0 } mac)
                {
                    taken.Add(IssuedIdentities.Key(mac));
                }
            }
        }

        return taken;
    }

    // The step that writes the new identity records it as issued first (also if the write then fails: it may have
    // landed), so no later plan of this installation gives it out again.
    internal static PlanStep RecordingIdentity(PlanStep step, IReadOnlyList<string> identity) =>
        step with { Action = new RecordIdentities(identity, step.Action ?? throw new ArgumentException("The step is not data.", nameof(step))) };

    // The datastore must exist, and so must the portgroup when one is asked for.
    private async Task CheckPlacementAsync(string ds, string? network, CancellationToken ct)
    {
        var stores = await context.Session.Inventory.GetDatastoresAsync(ct).ConfigureAwait(false);
        if (!stores.Any(s => s.Name == ds))
        {
            throw context.Invalid("DatastoreNotFound", $"Datastore '{ds}' does not exist on {Host}; available: {string.Join(", ", stores.Select(s => s.Name))}.", ds);
        }

        if (network is not null)
        {
            var nets = await context.Session.Inventory.GetNetworksAsync(ct).ConfigureAwait(false);
            if (!nets.Any(n => n.Name == network))
            {
                throw context.Invalid("NetworkNotFound", $"Portgroup '{network}' does not exist on {Host}; available: {string.Join(", ", nets.Select(n => n.Name))}.", network);
            }
        }
    }

    // The copy's cloud-init input: its own name and instance-id; cloud-init matches the NIC to configure by the first NIC's new MAC.
    internal static GuestInfoRequest GuestRequest(GuestInfoRequest? guest, string name, IdentitySeed seed, IReadOnlyList<string> macs)
    {
        var request = (guest ?? new GuestInfoRequest { VmName = name }) with { VmName = name };
        request = request with { InstanceId = request.InstanceId ?? "i-" + seed.Hex("instance-id", 16) };
        return request.MacAddress is null && macs.Count > 0 ? request with { MacAddress = macs[0] } : request;
    }

    // -DiskGB: the first disk grows when asked for more than the source has; asking for less is refused.
    private PlanStep? GrowStep(CopySpec c, VmxIdentity.Result rewrite, DatastorePath folder, string target, string createFolder)
    {
        var firstDisk = c.Source.Disks.FirstOrDefault();
        if (c.DiskGB is not { } gb || firstDisk is null || rewrite.Disks.Count == 0)
        {
            return null;
        }

        var bytes = gb * 1073741824L;
        if (bytes < firstDisk.CapacityBytes)
        {
            throw context.Invalid("DiskShrink", $"-DiskGB {gb} is smaller than the template's {firstDisk.CapacityGB} GB disk; disks are never shrunk.", gb.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (bytes == firstDisk.CapacityBytes)
        {
            return null;
        }

        var disk = folder.Child(rewrite.Disks[0].TargetFile);
        return context.Step($"Grow {disk.FileName} to {gb} GB", target, new ExtendDisk(disk, bytes), coveredBy: $"removed with the folder {folder}", inside: createFolder);
    }

    private static DatastorePath ResolveDisk(DatastorePath vmx, string fileName)
    {
        if (fileName.StartsWith("/vmfs/volumes/", StringComparison.Ordinal))
        {
            var rest = fileName["/vmfs/volumes/".Length..];
            var slash = rest.IndexOf('/');
            return new DatastorePath(rest[..slash], rest[(slash + 1)..]);
        }

        return fileName.StartsWith('[') ? DatastorePath.Parse(fileName) : vmx.Folder.Child(fileName);
    }
}
