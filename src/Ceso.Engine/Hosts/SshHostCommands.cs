using System.Globalization;
using Ceso.Engine.Formats;
using Ceso.Engine.Shell;
using Ceso.Engine.Ssh;

namespace Ceso.Engine.Hosts;

/// <summary>Host changes over SSH with the tools every ESXi host has (vim-cmd, vmkfstools, busybox); works on free licenses.</summary>
public sealed partial class SshHostCommands(SshSession ssh, string server) : IHostCommands
{
    /// <inheritdoc />
    public string Transport => "ssh";

    /// <inheritdoc />
    public bool SupportsHotAdd => false;

    /// <inheritdoc />
    public HostCall HotAdd(VmHandle vm, int? numCpu, long? memoryMB) => throw HotAddNotSupported(server, vm.Name, "over SSH (there is no vim-cmd for it)");

    /// <summary>The error of a hot-add that cannot be done: only the API raises CPUs or memory of a running VM.</summary>
    internal static CesoException HotAddNotSupported(string server, string vm, string why) =>
        new("HotAddNotSupported", CesoErrorKind.NotSupported,
            $"Hot-adding CPUs or memory to '{vm}' on {server} needs the vSphere API with a license that allows changes; it cannot be done {why}. " +
            $"Stop the VM (Stop-CesoVm '{vm}') and change it while it is off.")
        { Host = server, Target = vm };

    private HostCall Call(string program, params string[] args)
    {
        var line = ShellQuote.Join(program, args);
        return new HostCall(Transport, line, async ct => (await ssh.RunAsync(line, ct).ConfigureAwait(false)).EnsureSuccess(server));
    }

    // For calls whose vmid is only known while the plan runs: the text shows a placeholder until then.
    private HostCall VmCall(VmHandle vm, string verb, params string[] extra)
    {
        string Line() => ShellQuote.Join("vim-cmd", [verb, vm.Display, .. extra]);
        return new HostCall(Transport, Line, async ct =>
        {
            _ = vm.Required;
            (await ssh.RunAsync(Line(), ct).ConfigureAwait(false)).EnsureVimCmdSuccess(server);
        });
    }

    /// <inheritdoc />
    public HostCall MakeDirectory(DatastorePath folder) => Call("mkdir", folder.Vmfs);

    /// <inheritdoc />
    public HostCall SetFirewallAllowlist(Model.CesoFirewallRuleset current, bool allowAll, IReadOnlyList<string> entries)
    {
        var line = HostFirewall.EsxcliChange(current, allowAll, entries);
        return new HostCall(Transport, line, async ct => (await ssh.RunAsync(line, ct).ConfigureAwait(false)).EnsureSuccess(server));
    }

    /// <inheritdoc />
    public HostCall DeleteDirectory(DatastorePath folder) => Call("rm", "-rf", folder.Vmfs);

    /// <inheritdoc />
    public HostCall CopyDisk(DatastorePath source, DatastorePath target)
    {
        var call = Call("vmkfstools", "-i", source.Vmfs, "-d", "thin", target.Vmfs);
        return call with
        {
            // vmkfstools repaints "Clone: 37% done." while it copies, or holds it back (SshDiskCopy.cs).
            RunWithProgress = (progress, ct) => CopyWithProgressAsync(call.Command, source, target, progress, ct),
        };
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"Clone: (\d{1,3})% done")]
    private static partial System.Text.RegularExpressions.Regex Percent();

    /// <inheritdoc />
    public HostCall CreateDisk(DatastorePath disk, long capacityBytes) =>
        Call("vmkfstools", "-c", (capacityBytes / 1024).ToString(CultureInfo.InvariantCulture) + "K", "-d", "thin", disk.Vmfs);

    /// <inheritdoc />
    public HostCall ExtendDisk(DatastorePath disk, long capacityBytes) =>
        Call("vmkfstools", "-X", (capacityBytes / 1024).ToString(CultureInfo.InvariantCulture) + "K", disk.Vmfs);

    /// <inheritdoc />
    public HostCall DeleteDisk(DatastorePath disk) => Call("vmkfstools", "-U", disk.Vmfs);

    /// <inheritdoc />
    public HostCall MoveDisk(DatastorePath source, DatastorePath target) => Call("vmkfstools", "-E", source.Vmfs, target.Vmfs);

    /// <inheritdoc />
    public HostCall WriteFile(DatastorePath file, string content)
    {
        // printf is a shell builtin on ESXi's ash: no exec, so no argument-length limit; the content is one quoted word.
        // Written under a temporary name and moved into place, so a failure half-way (a full datastore) never leaves
        // a truncated file where the old one was.
        var temp = file.Vmfs + ".ceso-tmp";
        ShellCommandLine WriteAndMove(string text) => ShellCommandLine.Of("printf", "%s", text).WriteTo(temp).And("mv", temp, file.Vmfs);
        var line = WriteAndMove(content).ToString();
        var shown = WriteAndMove($"<{content.Length} bytes: {file.FileName}>").ToString(); // the content is not shown (it may be long or hold secrets)
        return new HostCall(Transport, shown, async ct =>
        {
            SshResult r;
            try
            {
                r = await ssh.RunAsync(line, ct).ConfigureAwait(false);
            }
            catch (SshConnectionException e) when (e.Message.Contains(line, StringComparison.Ordinal))
            {
                // The session's error quotes the command line, which here holds the whole file (guestinfo user-data,
                // keys): say it with the placeholder text instead, and keep the original (with the content) out of the chain.
                throw new SshConnectionException(e.ErrorId, e.Message.Replace(line, shown, StringComparison.Ordinal), e.InnerException)
                { Host = e.Host, Command = shown };
            }

            if (r.ExitCode != 0)
            {
                await ssh.RunAsync(ShellQuote.Join("rm", "-f", temp), CancellationToken.None).ConfigureAwait(false);
            }

            r.EnsureSuccess(server, shown);
        })
        {
            Payload = content,
        };
    }

    /// <inheritdoc />
    public HostCall Register(DatastorePath vmx, VmHandle vm)
    {
        var line = ShellQuote.Join("vim-cmd", "solo/registervm", vmx.Vmfs, vm.Name);
        return new HostCall(Transport, line, async ct =>
        {
            var r = (await ssh.RunAsync(line, ct).ConfigureAwait(false)).EnsureVimCmdSuccess(server);
            var id = r.Stdout.Trim().Split('\n')[^1].Trim(); // registervm prints the new vmid
            // Anything else (a warning, nothing) must not become the id every later step and the undo would use.
            vm.Id = id.Length > 0 && id.All(char.IsAsciiDigit) ? id
                : throw new CesoException("UnexpectedHostOutput", CesoErrorKind.HostError,
                    $"'{line}' on {server} printed '{id}' where hostd prints the new VM's id; '{vm.Name}' may be registered. Check with vim-cmd vmsvc/getallvms and unregister it if it is there.")
                { Host = server, Target = vm.Name, MayHaveTakenEffect = true };
        });
    }

    /// <inheritdoc />
    public HostCall Unregister(VmHandle vm) => VmCall(vm, "vmsvc/unregister");

    /// <inheritdoc />
    public HostCall Destroy(VmHandle vm) => VmCall(vm, "vmsvc/destroy");

    /// <inheritdoc />
    public HostCall Reload(VmHandle vm) => VmCall(vm, "vmsvc/reload");

    /// <inheritdoc />
    public HostCall PowerOn(VmHandle vm) => VmCall(vm, "vmsvc/power.on");

    /// <inheritdoc />
    public HostCall PowerOff(VmHandle vm) => VmCall(vm, "vmsvc/power.off");

    /// <inheritdoc />
    public HostCall Shutdown(VmHandle vm) => VmCall(vm, "vmsvc/power.shutdown");

    /// <inheritdoc />
    public HostCall Reset(VmHandle vm) => VmCall(vm, "vmsvc/power.reset");

    /// <inheritdoc />
    public HostCall CreateSnapshot(VmHandle vm, SnapshotHandle snapshot)
    {
        var create = VmCall(vm, "vmsvc/snapshot.create", snapshot.Name, "Ceso hot copy", "0", "0");
        return create with
        {
            Run = async ct =>
            {
                await create.Run(ct).ConfigureAwait(false);
                // snapshot.create prints no id; the tree does, under the unique name.
                snapshot.SshId = await FindSnapshotIdAsync(vm, snapshot, ct).ConfigureAwait(false)
                    ?? throw new CesoException("SnapshotNotFound", CesoErrorKind.HostError,
                        $"vim-cmd made snapshot '{snapshot.Name}' of '{vm.Name}', but vmsvc/snapshot.get does not list it.") { Host = server, Target = vm.Name };
            },
        };
    }

    /// <inheritdoc />
    public HostCall RemoveSnapshot(VmHandle vm, SnapshotHandle snapshot)
    {
        string Line() => ShellQuote.Join("vim-cmd", "vmsvc/snapshot.remove", vm.Display, snapshot.SshId ?? snapshot.Placeholder);
        string Shown() => snapshot.Absent ? $"nothing to remove: '{vm.Name}' has no snapshot named '{snapshot.Name}'" : Line();
        return new HostCall(Transport, Shown, async ct =>
        {
            _ = vm.Required;
            snapshot.Absent = false;
            if (snapshot.SshId is null)
            {
                var ids = SnapshotIdsOf(await SnapshotTreeAsync(vm, ct).ConfigureAwait(false), snapshot.Name);
                switch (ids.Count)
                {
                    case 0:
                        snapshot.Absent = true; // never made: nothing of Ceso's to remove
                        return;
                    case > 1:
                        throw new CesoException("SnapshotAmbiguous", CesoErrorKind.InvalidState,
                            $"'{vm.Name}' has {ids.Count} snapshots named '{snapshot.Name}'; Ceso removes none of them. Remove the one that is Ceso's by hand.")
                        { Host = server, Target = vm.Name };
                }

                snapshot.SshId = ids[0];
            }

            (await ssh.RunAsync(Line(), ct).ConfigureAwait(false)).EnsureVimCmdSuccess(server);
        });
    }

    private async Task<string?> FindSnapshotIdAsync(VmHandle vm, SnapshotHandle snapshot, CancellationToken ct) =>
        SnapshotIdOf(await SnapshotTreeAsync(vm, ct).ConfigureAwait(false), snapshot.Name);

    private async Task<string> SnapshotTreeAsync(VmHandle vm, CancellationToken ct) =>
        (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vmsvc/snapshot.get", vm.Required), ct).ConfigureAwait(false)).EnsureVimCmdSuccess(server).Stdout;

    /// <summary>
    /// The id of the snapshot named <paramref name="name"/> in <c>vim-cmd vmsvc/snapshot.get</c> output (a tree of
    /// "--Snapshot Name : x" / "--Snapshot Id : n" lines, children indented with more dashes); null when it is not
    /// there or when more than one snapshot has that name (Ceso then touches none).
    /// </summary>
    internal static string? SnapshotIdOf(string tree, string name) => SnapshotIdsOf(tree, name) is [var only] ? only : null;

    /// <summary>The ids of every snapshot named <paramref name="name"/> in <c>vim-cmd vmsvc/snapshot.get</c> output.</summary>
    internal static List<string> SnapshotIdsOf(string tree, string name)
    {
        string? pending = null;
        var ids = new List<string>();
        foreach (var raw in tree.Split('\n'))
        {
            var line = raw.TrimStart('-', '|', ' ').TrimEnd('\r');
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (key == "Snapshot Name")
            {
                pending = value;
            }
            else if (key == "Snapshot Id" && pending is not null)
            {
                if (pending == name)
                {
                    ids.Add(value);
                }

                pending = null;
            }
        }

        return ids;
    }
}
