using System.Text;
using Ceso.Engine.CloudInit;
using Ceso.Engine.Connection;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Security;
using Ceso.Engine.Shell;

namespace Ceso.Engine.Vms;

/// <summary>
/// Builds the plans of the VM lifecycle (create from template, clone, power, remove). Everything the plan needs to
/// know is read and validated first, so bad input fails before any change; then each step is a host call with its
/// undo. The session's host adapter chooses the transport (API writes that switch to SSH on a free license, or SSH
/// alone); each step carries both texts when there are two.
/// </summary>
public sealed partial class VmOperations
{
    private readonly CesoSession _session;
    private readonly IHostCommands _commands;
    private readonly ProtectionList _protection;
    private readonly CesoHome _home;

    /// <summary>Creates the operations for a session; its host adapter says which transport runs what.</summary>
    public VmOperations(CesoSession session, CesoHome home)
    {
        _session = session;
        _home = home;
        _protection = new ProtectionList(home);
        _commands = session.Host.Commands;
    }

    private string Host => _session.Server;

    /// <summary>A step made of one host call (over both transports when the adapter has two) and its undo.</summary>
    /// <param name="title">Short title.</param>
    /// <param name="target">ShouldProcess target.</param>
    /// <param name="call">The change.</param>
    /// <param name="undo">Its undo.</param>
    /// <param name="coveredBy">For changes an earlier step's undo takes care of (a file in a new folder): how, as the undo text.</param>
    /// <param name="inside">The title of the earlier step whose undo removes this step's traces (<see cref="PlanStep.Inside"/>).</param>
    private PlanStep Step(string title, string target, Func<IHostCommands, HostCall> call, Func<IHostCommands, HostCall>? undo = null, string? coveredBy = null,
        string? inside = null)
    {
        var c = _commands.Combine(call);
        var u = undo is null ? null : _commands.Combine(undo);
        return new PlanStep
        {
            Title = title,
            Target = target,
            Transport = c.Transport,
            Command = c.Command,
            FallbackCommand = c.FallbackCommand,
            Ran = c.Ran,
            Execute = c.Run,
            ExecuteWithProgress = c.RunWithProgress,
            UndoCommand = u?.Command ?? coveredBy,
            Undo = u?.Run ?? (coveredBy is null ? null : _ => Task.CompletedTask),
            UndoRan = u is null ? null : u.Ran,
            Inside = inside,
            Payload = c.Payload,
        };
    }

    /// <summary>Plans New-CesoVm.</summary>
    public async Task<(Plan Plan, VmHandle Vm)> PlanCreateAsync(CreateVmRequest r, CancellationToken ct = default)
    {
        var vms = await _session.Inventory.GetVmsAsync(ct).ConfigureAwait(false);
        // A name from the template registry (config.yaml) stands for a registered VM; otherwise -Template is a VM.
        var entry = Configuration.CesoConfig.Load(_home).Template(r.Template, Host);
        if (entry is not null && !vms.Any(v => v.Name == entry.Vm || v.Id == entry.Vm))
        {
            throw new CesoException("TemplateNotFound", CesoErrorKind.NotFound,
                $"{Configuration.CesoConfig.PathOf(_home)} says template '{r.Template}' is VM '{entry.Vm}', but {Host} has no such VM. Fix the entry or register the VM.")
            { Target = r.Template, Host = Host };
        }

        var template = Find(vms, entry?.Vm ?? r.Template, "TemplateNotFound", "template");
        if (template.PowerState != CesoPowerState.PoweredOff)
        {
            throw Invalid("TemplatePoweredOn", $"Template '{template.Name}' is {template.PowerState}; a template must be powered off so its disks can be copied. Stop it first, or use Copy-CesoVm -Hot.", r.Template);
        }

        var (plan, vm) = await PlanCopyAsync("CreateVm", template, vms, r.Name, r.Guest, r.Datastore, r.Network, r.NumCpu, r.MemoryMB, r.DiskGB, hot: false, r.PowerOn, ct).ConfigureAwait(false);
        return entry is null ? (plan, vm)
            : (plan with { Notes = [$"template '{r.Template}' is VM '{entry.Vm}' ({Configuration.CesoConfig.PathOf(_home)})", .. plan.Notes] }, vm);
    }

    /// <summary>Plans Copy-CesoVm.</summary>
    public async Task<(Plan Plan, VmHandle Vm)> PlanCloneAsync(CloneVmRequest r, CancellationToken ct = default)
    {
        var vms = await _session.Inventory.GetVmsAsync(ct).ConfigureAwait(false);
        var source = Find(vms, r.Source, "VmNotFound", "VM");
        if (!r.Hot && source.PowerState != CesoPowerState.PoweredOff)
        {
            throw Invalid("VmPoweredOn", $"'{source.Name}' is {source.PowerState}; a cold copy needs it powered off. Stop it, or add -Hot to copy it running through a temporary snapshot.", r.Source);
        }

        return await PlanCopyAsync("CloneVm", source, vms, r.Name, r.Guest, r.Datastore, null, null, null, null, r.Hot && source.PowerState == CesoPowerState.PoweredOn, r.PowerOn, ct).ConfigureAwait(false);
    }

    private async Task<(Plan, VmHandle)> PlanCopyAsync(string operation, CesoVm source, IReadOnlyList<CesoVm> vms, string name, GuestInfoRequest? guest,
        string? datastore, string? network, int? numCpu, long? memoryMB, int? diskGB, bool hot, bool powerOn, CancellationToken ct)
    {
        ValidateName(name);
        if (vms.Any(v => v.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
        {
            throw Invalid("VmExists", $"A VM named '{name}' already exists on {Host}. Choose another name.", name);
        }

        if (source.SnapshotCount > 0)
        {
            throw Invalid("SourceHasSnapshots", $"'{source.Name}' has {source.SnapshotCount} snapshot(s); copying it would copy only its base disks. Remove or consolidate them first (vim-cmd vmsvc/snapshot.removeall).", source.Name);
        }

        if (source.Disks.FirstOrDefault(d => d.Mode?.StartsWith("independent", StringComparison.Ordinal) == true) is { } independent)
        {
            throw Invalid("IndependentDisk", $"'{source.Name}' has an independent disk ({independent.Path}); snapshots do not cover it, so a copy would not be consistent. Change its mode to dependent first.", source.Name);
        }

        if (source.VmxPath is null)
        {
            throw Invalid("VmxPathUnknown", $"The host does not say where the .vmx of '{source.Name}' is.", source.Name);
        }

        var sourceVmx = DatastorePath.Parse(source.VmxPath);
        var ds = datastore ?? sourceVmx.Datastore;
        var stores = await _session.Inventory.GetDatastoresAsync(ct).ConfigureAwait(false);
        if (!stores.Any(s => s.Name == ds))
        {
            throw Invalid("DatastoreNotFound", $"Datastore '{ds}' does not exist on {Host}; available: {string.Join(", ", stores.Select(s => s.Name))}.", ds);
        }

        if (network is not null)
        {
            var nets = await _session.Inventory.GetNetworksAsync(ct).ConfigureAwait(false);
            if (!nets.Any(n => n.Name == network))
            {
                throw Invalid("NetworkNotFound", $"Portgroup '{network}' does not exist on {Host}; available: {string.Join(", ", nets.Select(n => n.Name))}.", network);
            }
        }

        var folder = new DatastorePath(ds, name);
        var vmxPath = folder.Child(name + ".vmx");
        if (await ExistsAsync(folder, ct).ConfigureAwait(false))
        {
            throw Invalid("FolderExists", $"The folder {folder} already exists on {Host}; Ceso never writes into an existing folder. Choose another name or remove the folder.", name);
        }

        var vmxText = await ReadTextAsync(sourceVmx, ct).ConfigureAwait(false);
        // The same request against the same source gives the same new identity: -WhatIf shows what the run writes.
        var seed = IdentitySeed.For(_home, operation, Host, source.Id, vmxText, name, System.Text.Json.JsonSerializer.Serialize(guest), ds, network,
            numCpu?.ToString(System.Globalization.CultureInfo.InvariantCulture), memoryMB?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            diskGB?.ToString(System.Globalization.CultureInfo.InvariantCulture), hot ? "hot" : "cold", powerOn ? "on" : "off");
        var rewrite = VmxIdentity.Rewrite(ParseVmx(vmxText, sourceVmx), new VmxIdentity.Target(name, numCpu, memoryMB, network, new Dictionary<string, string>(), null), seed);
        // cloud-init matches the NIC to configure by the first NIC's new MAC.
        var request = (guest ?? new GuestInfoRequest { VmName = name }) with { VmName = name };
        request = request with { InstanceId = request.InstanceId ?? "i-" + seed.Hex("instance-id", 16) };
        if (request.MacAddress is null && rewrite.Macs.Count > 0)
        {
            request = request with { MacAddress = rewrite.Macs[0] };
        }

        var info = GuestInfoBuilder.Build(request);
        foreach (var (key, value) in info.ExtraConfig)
        {
            rewrite.Vmx.Set(key, value);
        }

        var vm = new VmHandle(name);
        var src = new VmHandle(source.Name, source.Id);
        var target = $"{Host}/{name}";
        var steps = new List<PlanStep>();
        var hotLock = sourceVmx.Folder.Child(".ceso-hot-copy.lock");
        var lockTitle = $"Lock '{source.Name}' against other hot copies";
        var snapshotTitle = $"Snapshot '{source.Name}' for a consistent copy";
        // A name no user snapshot has: Ceso removes this one, by its id, and never anything else.
        var snapshot = new SnapshotHandle($"ceso-copy-{name}-{seed.Hex("snapshot", 4)}");
        if (hot)
        {
            // Two hot copies of one VM must not overlap: removing one's snapshot consolidates into the base disk the
            // other is still reading. Creating a folder is atomic on VMFS and over both transports, so it is the lock.
            steps.Add(Step(lockTitle, $"{Host}/{source.Name}", t => t.MakeDirectory(hotLock), t => t.DeleteDirectory(hotLock)));
            steps.Add(Step(snapshotTitle, $"{Host}/{source.Name}", t => t.CreateSnapshot(src, snapshot), t => t.RemoveSnapshot(src, snapshot)));
        }

        var createFolder = $"Create folder {folder}";
        steps.Add(Step(createFolder, target, t => t.MakeDirectory(folder), t => t.DeleteDirectory(folder)));
        foreach (var (from, to) in rewrite.Disks)
        {
            var sourceDisk = ResolveDisk(sourceVmx, from);
            var targetDisk = folder.Child(to);
            steps.Add(Step($"Copy disk {sourceDisk.FileName} thin", target, t => t.CopyDisk(sourceDisk, targetDisk), t => t.DeleteDisk(targetDisk), inside: createFolder));
        }

        var notes = info.Notes.ToList();
        var firstDisk = source.Disks.FirstOrDefault();
        if (diskGB is { } gb && firstDisk is not null && rewrite.Disks.Count > 0)
        {
            var bytes = gb * 1073741824L;
            if (bytes < firstDisk.CapacityBytes)
            {
                throw Invalid("DiskShrink", $"-DiskGB {gb} is smaller than the template's {firstDisk.CapacityGB} GB disk; disks are never shrunk.", gb.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            if (bytes > firstDisk.CapacityBytes)
            {
                var disk = folder.Child(rewrite.Disks[0].TargetFile);
                steps.Add(Step($"Grow {disk.FileName} to {gb} GB", target, t => t.ExtendDisk(disk, bytes), coveredBy: $"removed with the folder {folder}", inside: createFolder));
            }
        }

        var finalVmx = rewrite.Vmx.ToString();
        notes.Add($"new BIOS UUID {VmxIdentity.ApiUuid(rewrite.BiosUuid)}, MAC(s) {string.Join(", ", rewrite.Macs)}, cloud-init instance-id {info.InstanceId}");
        // The .vmx carries the guestinfo, so the choices made for the user are shown with the step that writes it.
        steps.Add(Step($"Write {vmxPath.FileName}", target, t => t.WriteFile(vmxPath, finalVmx), coveredBy: $"removed with the folder {folder}", inside: createFolder) with { Notes = notes.ToList() });
        steps.Add(Step($"Register '{name}'", target, t => t.Register(vmxPath, vm), t => t.Unregister(vm)));
        if (powerOn)
        {
            steps.Add(Step($"Power on '{name}'", target, t => t.PowerOn(vm), t => t.PowerOff(vm)));
        }

        if (hot)
        {
            // Cleanups: they run after the copy is finished or undone, and after Ctrl+C. Should one fail, the copy stays
            // and a warning names what is left (a snapshot or the lock folder) with the command that removes it.
            steps.Add(Step($"Remove the snapshot Ceso made of '{source.Name}'", $"{Host}/{source.Name}", t => t.RemoveSnapshot(src, snapshot))
                with { Kind = StepKind.Cleanup, Releases = snapshotTitle });
            steps.Add(Step($"Unlock '{source.Name}'", $"{Host}/{source.Name}", t => t.DeleteDirectory(hotLock))
                with { Kind = StepKind.Cleanup, Releases = lockTitle });
        }

        return (new Plan { Operation = operation, Host = Host, Vm = name, Steps = steps, Notes = notes }, vm);
    }

    /// <summary>Plans a power change.</summary>
    public async Task<(Plan Plan, CesoVm Vm)> PlanPowerAsync(string vmName, PowerAction action, CancellationToken ct = default)
    {
        var vm = Find(await _session.Inventory.GetVmsAsync(ct).ConfigureAwait(false), vmName, "VmNotFound", "VM");
        CheckNotProtected(vm, action);
        var h = new VmHandle(vm.Name, vm.Id);
        var want = action == PowerAction.Start ? CesoPowerState.PoweredOn : action == PowerAction.Reset ? CesoPowerState.PoweredOn : CesoPowerState.PoweredOff;
        var steps = new List<PlanStep>();
        var target = $"{Host}/{vm.Name}";
        if (action == PowerAction.Reset && vm.PowerState != CesoPowerState.PoweredOn)
        {
            throw new CesoException("InvalidPowerState", CesoErrorKind.InvalidState, $"'{vm.Name}' is {vm.PowerState}; only a running VM can be reset. Start it with Start-CesoVm.") { Target = vmName, Host = Host };
        }

        // A suspended guest is not running, so it cannot shut itself down: say what can be done instead.
        if (action == PowerAction.Shutdown && vm.PowerState == CesoPowerState.Suspended)
        {
            throw new CesoException("InvalidPowerState", CesoErrorKind.InvalidState,
                $"'{vm.Name}' is Suspended: its guest is not running and cannot shut down. Resume it with Start-CesoVm and stop it then, or power it off with Stop-CesoVm -Kill (the suspended state is lost).")
            { Target = vmName, Host = Host };
        }

        // Asking for the state a VM is already in is not an error: scripts can re-run safely (the plan is empty).
        if (vm.PowerState != want || action == PowerAction.Reset)
        {
            steps.Add(action switch
            {
                PowerAction.Start => Step($"Power on '{vm.Name}'", target, t => t.PowerOn(h)),
                PowerAction.Shutdown => Step($"Shut down the guest of '{vm.Name}' and wait until it is off", target,
                    t => ThenWaitOff(t.Shutdown(h), vm)),
                PowerAction.Kill => Step($"Power off '{vm.Name}'", target, t => t.PowerOff(h)),
                _ => Step($"Reset '{vm.Name}'", target, t => t.Reset(h)),
            });
        }

        return (new Plan { Operation = action + "Vm", Host = Host, Vm = vm.Name, Steps = steps }, vm);
    }

    /// <summary>How long a guest shutdown may take before Stop-CesoVm gives up (it never forces power-off by itself).</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromMinutes(5);

    private HostCall ThenWaitOff(HostCall shutdown, CesoVm vm) => new(shutdown.Transport, shutdown.Command, async ct =>
    {
        await shutdown.Run(ct).ConfigureAwait(false);
        var deadline = DateTime.UtcNow + ShutdownTimeout;
        while ((await RefreshAsync(vm.Id, ct).ConfigureAwait(false))?.PowerState == CesoPowerState.PoweredOn)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new CesoException("ShutdownTimeout", CesoErrorKind.InvalidState,
                    $"The guest of '{vm.Name}' did not shut down within {ShutdownTimeout.TotalMinutes:0} min (are VMware Tools running?). Use Stop-CesoVm -Kill to power it off.")
                { Target = vm.Name, Host = Host };
            }

            await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
        }
    });

    /// <summary>Plans Remove-CesoVm: the VM must be powered off; files are deleted unless <paramref name="keepFiles"/>.</summary>
    public async Task<(Plan Plan, CesoVm Vm)> PlanRemoveAsync(string vmName, bool keepFiles, CancellationToken ct = default)
    {
        var vm = Find(await _session.Inventory.GetVmsAsync(ct).ConfigureAwait(false), vmName, "VmNotFound", "VM");
        CheckNotProtected(vm, "remove");
        if (vm.PowerState != CesoPowerState.PoweredOff)
        {
            throw new CesoException("InvalidPowerState", CesoErrorKind.InvalidState, $"'{vm.Name}' is {vm.PowerState}; stop it first (Stop-CesoVm '{vm.Name}'), then remove it.") { Target = vmName, Host = Host };
        }

        var h = new VmHandle(vm.Name, vm.Id);
        var step = keepFiles
            ? Step($"Unregister '{vm.Name}' (files kept)", $"{Host}/{vm.Name}", t => t.Unregister(h))
            : Step($"Delete '{vm.Name}' and its files", $"{Host}/{vm.Name}", t => t.Destroy(h));
        return (new Plan { Operation = "RemoveVm", Host = Host, Vm = vm.Name, Steps = [step] }, vm);
    }

    /// <summary>
    /// Reads a VM again after a plan ran. A vmid (digits, as hostd's ids are) is read alone first, so re-reading the
    /// VM a plan made, or polling one during a shutdown, does not list every VM over SSH; a name, or an id the host
    /// does not know, is looked up in the listing as before.
    /// </summary>
    public async Task<CesoVm?> RefreshAsync(string nameOrId, CancellationToken ct = default)
    {
        if (nameOrId.Length > 0 && nameOrId.All(char.IsAsciiDigit) && await _session.Inventory.GetVmByIdAsync(nameOrId, ct).ConfigureAwait(false) is { } byId)
        {
            return byId;
        }

        return (await _session.Inventory.GetVmsAsync(ct).ConfigureAwait(false)).FirstOrDefault(v => v.Id == nameOrId || v.Name == nameOrId);
    }

    /// <summary>Refuses to change the power state of a protected VM, naming the action in words.</summary>
    public void CheckNotProtected(CesoVm vm, PowerAction action) => CheckNotProtected(vm, action switch
    {
        PowerAction.Start => "power on",
        PowerAction.Shutdown => "shut down",
        PowerAction.Kill => "power off",
        _ => "reset",
    });

    /// <summary>Refuses to change a protected VM, naming the protection and how to lift it.</summary>
    public void CheckNotProtected(CesoVm vm, string action)
    {
        if (vm.Annotation?.Contains(VmxIdentity.ProtectedTag, StringComparison.Ordinal) == true)
        {
            throw new CesoException("VmProtected", CesoErrorKind.InvalidState,
                $"'{vm.Name}' is protected (its notes carry {VmxIdentity.ProtectedTag}); Ceso will not {action} '{vm.Name}'. Lift the protection with Unprotect-CesoVm '{vm.Name}' if you mean it.")
            { Target = vm.Name, Host = Host };
        }

        if (_protection.IsListed(Host, vm.Name))
        {
            throw new CesoException("VmProtected", CesoErrorKind.InvalidState,
                $"'{vm.Name}' is protected (listed in {_protection.Path}); Ceso will not {action} '{vm.Name}'. Remove its line from that file if you mean it.")
            { Target = vm.Name, Host = Host };
        }
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

    /// <summary>
    /// The VM with this id, else the one VM with exactly this name. Names are case-sensitive on ESXi and hostd allows
    /// two VMs with one name, so an ambiguous name is refused (pipe the Get-CesoVm result, which carries the id).
    /// </summary>
    private CesoVm Find(IReadOnlyList<CesoVm> vms, string nameOrId, string errorId, string what)
    {
        if (vms.FirstOrDefault(v => v.Id == nameOrId) is { } byId)
        {
            return byId;
        }

        var named = vms.Where(v => v.Name == nameOrId).ToList();
        return named.Count switch
        {
            1 => named[0],
            0 => throw new CesoException(errorId, CesoErrorKind.NotFound,
                $"No {what} named '{nameOrId}' on {Host}{Similar(vms, nameOrId)}. List them with Get-CesoVm.") { Target = nameOrId, Host = Host },
            _ => throw new CesoException("AmbiguousVmName", CesoErrorKind.InvalidArgument,
                $"{named.Count} VMs on {Host} are named '{nameOrId}' (ids {string.Join(", ", named.Select(v => v.Id))}); give the id, or pipe the one you mean: Get-CesoVm -Id {named[0].Id} | …")
            { Target = nameOrId, Host = Host },
        };
    }

    private static string Similar(IReadOnlyList<CesoVm> vms, string name) =>
        vms.FirstOrDefault(v => v.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) is { } v ? $" (names are case-sensitive: did you mean '{v.Name}'?)" : "";

    private void ValidateName(string name)
    {
        // ESXi accepts almost anything as a display name, but the name is also the folder and file name on the
        // datastore and appears in every host command: only characters that are safe everywhere are accepted.
        if (string.IsNullOrWhiteSpace(name) || name.Length > 80 || name.Trim() != name
            || name.Any(c => !(char.IsLetterOrDigit(c) || c is ' ' or '.' or '_' or '-' or '(' or ')' or '+' or '@' or ',')))
        {
            throw Invalid("InvalidVmName",
                $"'{name}' cannot be a VM name: it is also its folder and file name on the datastore. Use up to 80 letters, digits, spaces and . _ - ( ) + @ , (no leading or trailing space).",
                name);
        }
    }

    private CesoException Invalid(string id, string message, string target) =>
        new(id, CesoErrorKind.InvalidArgument, message) { Target = target, Host = Host };

    private Task<bool> ExistsAsync(DatastorePath path, CancellationToken ct) => _session.Files.ExistsAsync(path, ct);

    /// <summary>A .vmx read from the host; a line Ceso cannot read is an error naming the file, not a crash.</summary>
    private VmxFile ParseVmx(string text, DatastorePath path)
    {
        try
        {
            return VmxFile.Parse(text);
        }
        catch (FormatException e)
        {
            throw new CesoException("UnreadableVmx", CesoErrorKind.HostError, $"{path} on {Host} has a line Ceso cannot read ({e.Message}). Fix the file, or change the VM with the host's own tools.", e)
            { Target = path.ToString(), Host = Host };
        }
    }

    private Task<string> ReadTextAsync(DatastorePath path, CancellationToken ct) => _session.Files.ReadTextAsync(path, ct);
}
