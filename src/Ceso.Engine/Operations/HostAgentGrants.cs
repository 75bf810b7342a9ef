using System.Globalization;
using Ceso.Engine.Connection;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;
using Ceso.Engine.Security;
using Ceso.Engine.Shell;

namespace Ceso.Engine.Operations;

/// <summary>
/// The host side of Grant-CesoAgentAccess for an agent with an ESXi account (<see cref="HostAgentAccounts"/>): with the
/// person's admin session, a permission with an operator role (the privileges of the granted operations) for the agent's
/// user on the host's root folder or on the named VMs (never on protected ones: their No Access stays), and its removal
/// scheduled on the host itself — a script on a datastore that removes the permission, run by a line in root's crontab
/// at expiry, and by a line in /etc/rc.local.d/local.sh at boot (ESXi loses crontab edits at reboot: the boot run removes
/// an expired grant, or puts the crontab line back). So the permission ends on time even when Ceso never runs again.
/// </summary>
public sealed class HostAgentGrants(CesoSession session, CesoHome home)
{
    /// <summary>The ESXi root crontab.</summary>
    public const string Crontab = "/var/spool/cron/crontabs/root";

    /// <summary>ESXi's boot script (kept over reboots).</summary>
    public const string LocalSh = "/etc/rc.local.d/local.sh";

    /// <summary>The role of a grant without -Operation.</summary>
    public const string OperatorRole = "ceso-agent-operator";

    private static readonly string[] VmFiles = ["Datastore.Browse", "Datastore.FileManagement"];
    private static readonly string[] NewVm = ["VirtualMachine.Inventory.Create", "VirtualMachine.Inventory.Register", "VirtualMachine.Config.Settings",
        "VirtualMachine.Config.ReloadFromPath", "Datastore.AllocateSpace", "Datastore.Browse", "Datastore.FileManagement", "VirtualMachine.Interact.PowerOn"];

    /// <summary>The host privileges each operation's plans need (hostd checks them per method).</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Privileges = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase)
    {
        ["StartVm"] = ["VirtualMachine.Interact.PowerOn"],
        ["ShutdownVm"] = ["VirtualMachine.Interact.PowerOff"],
        ["KillVm"] = ["VirtualMachine.Interact.PowerOff"],
        ["ResetVm"] = ["VirtualMachine.Interact.Reset"],
        ["ReconfigureVm"] = ["VirtualMachine.Config.Settings", "VirtualMachine.Config.ReloadFromPath", .. VmFiles],
        ["ProtectVm"] = ["VirtualMachine.Config.Settings", "VirtualMachine.Config.ReloadFromPath", .. VmFiles],
        ["UnprotectVm"] = ["VirtualMachine.Config.Settings", "VirtualMachine.Config.ReloadFromPath", .. VmFiles],
        ["CreateVm"] = NewVm,
        ["CloneVm"] = NewVm,
        ["RestoreVm"] = NewVm,
        ["RestoreVmInPlace"] = [.. NewVm, "VirtualMachine.Inventory.Unregister", "VirtualMachine.Interact.PowerOff"],
        ["RemoveVm"] = ["VirtualMachine.Inventory.Delete", "VirtualMachine.Inventory.Unregister", "VirtualMachine.Interact.PowerOff", .. VmFiles],
        ["BackupVm"] = ["VirtualMachine.State.CreateSnapshot", "VirtualMachine.State.RemoveSnapshot", .. VmFiles],
        ["BootProbe"] = [.. NewVm, "VirtualMachine.Inventory.Delete", "VirtualMachine.Interact.PowerOff"],
        ["SetFirewallAllowlist"] = ["Host.Config.NetService"],
        // Local only (Ceso's own state): no host privilege.
        ["RemoveBackup"] = [],
        ["NewBackupRepository"] = [],
        ["NewIPPool"] = [],
        ["RemoveIPPool"] = [],
        ["RemoveIPLease"] = [],
        ["RegisterTemplate"] = [],
        ["UnregisterTemplate"] = [],
    };

    /// <summary>The role for a set of operations (all of them when empty) and its privileges.</summary>
    public static (string Role, IReadOnlyList<string> Privileges) RoleFor(IReadOnlyList<string> operations)
    {
        var ops = operations.Count == 0 ? Privileges.Keys.ToList() : operations.ToList();
        var privileges = ops.SelectMany(o => Privileges.TryGetValue(o, out var p) ? p : []).Distinct().Order(StringComparer.Ordinal).ToList();
        var role = operations.Count == 0 ? OperatorRole : "ceso-agent-" + string.Join("-", ops.Select(o => o.ToLowerInvariant()).Distinct().Order(StringComparer.Ordinal));
        return (role, privileges);
    }

    /// <summary>The removal script's path for a grant on the host's first datastore.</summary>
    private static DatastorePath ScriptPath(string datastore, string grantId) => new(datastore, $".ceso-grant-{grantId}.sh");

    /// <summary>The crontab line that runs the removal at <paramref name="expires"/> (UTC, the ESXi clock; the minute after).</summary>
    public static string CronLine(string script, string grantId, DateTimeOffset expires)
    {
        var at = new DateTime((expires.UtcDateTime.Ticks + TimeSpan.TicksPerMinute - 1) / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, DateTimeKind.Utc);
        return string.Create(CultureInfo.InvariantCulture, $"{at.Minute} {at.Hour} {at.Day} {at.Month} * {ShellQuote.Join("/bin/sh", script)} # ceso-grant {grantId}");
    }

    /// <summary>
    /// The removal script: at boot ("boot") before expiry it only puts the crontab line back; otherwise it removes the
    /// permissions, its crontab and boot lines, and itself.
    /// </summary>
    public static string Script(HostGrantRecord r, string cronLine)
    {
        var tag = $"ceso-grant {r.GrantId}";
        var lines = new List<string>
        {
            "#!/bin/sh",
            $"# Ceso: host-side grant {r.GrantId} for agent '{r.Agent}' (ESXi user {r.User}, role {r.Role}) until {r.ExpiresAt.UtcDateTime:yyyy-MM-ddTHH:mm:ss}Z.",
            $"# Run by {Crontab} at expiry and by {LocalSh} at boot (crontab edits do not survive a reboot).",
            $"expires={r.ExpiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}",
            "if [ \"$1\" = boot ] && [ \"$(date +%s)\" -lt \"$expires\" ]; then",
            $"  grep -q {ShellQuote.Quote(tag)} {Crontab} || echo {ShellQuote.Quote(cronLine)} >> {Crontab}",
            $"  {ShellCommandLine.ReloadCrond}",
            "  exit 0",
            "fi",
        };
        // The root folder's permission goes back to the account's ReadOnly (removing it would take the reads too); a
        // VM's goes, so the VM inherits ReadOnly again.
        lines.AddRange(r.Entities.Select(e => e == PermissionEntity.HostRoot
            ? ShellQuote.Join("vim-cmd", "vimsvc/auth/entity_permission_add", e.VimCmd, r.User, "false", HostAgentAccounts.ReadOnlyRole, "true")
            : ShellQuote.Join("vim-cmd", "vimsvc/auth/entity_permission_remove", e.VimCmd, r.User, "false")));
        lines.Add(ShellQuote.Join("sed", "-i", $"/{tag}/d", Crontab, LocalSh));
        lines.Add(ShellCommandLine.ReloadCrond);
        lines.Add("rm -f \"$0\"");
        return string.Join("\n", lines) + "\n";
    }

    /// <summary>
    /// Plans the host side of a grant (its expiry already fixed in <paramref name="grant"/>): the operator role when the
    /// host has none yet, the permissions, the removal script, the crontab line, the boot line, the local record. Needs
    /// SSH in the session (the crontab); the permissions go over the API when there is one.
    /// </summary>
    public async Task<(IReadOnlyList<PlanStep> Steps, IReadOnlyList<string> Notes)> PlanGrantAsync(AgentCredential credential, AgentGrant grant, CancellationToken ct)
    {
        var ssh = session.Ssh ?? throw new CesoException("HostGrantNeedsSsh", CesoErrorKind.InvalidArgument,
            $"The host-side grant for agent '{grant.Agent}' schedules its own removal in the host's crontab, which needs SSH: connect to {session.Server} with -SshUser root too.")
        { Host = session.Server, Target = grant.Agent };
        var accounts = new HostAgentAccounts(session, home);
        var c = accounts.Commands;
        var (role, privileges) = RoleFor(grant.Plan is null ? grant.Operations : []);
        var roles = await c.RolesAsync(ct).ConfigureAwait(false);
        var notes = new List<string>();
        var entities = new List<PermissionEntity>();
        if (grant.Vms.Count == 0)
        {
            entities.Add(PermissionEntity.HostRoot);
        }
        else
        {
            foreach (var vm in (await session.Inventory.GetVmsAsync(ct).ConfigureAwait(false)).Where(v => grant.Vms.Any(p => AgentGrant.Matches(p, v.Name))).OrderBy(v => v.Name, StringComparer.Ordinal))
            {
                if (accounts.IsProtected(vm))
                {
                    notes.Add($"'{vm.Name}' is protected: its No Access for '{credential.User}' stays.");
                }
                else
                {
                    entities.Add(PermissionEntity.Vm(vm.Id, vm.Name));
                }
            }

            if (entities.Count == 0)
            {
                throw new CesoException("HostGrantNoVm", CesoErrorKind.NotFound,
                    $"No VM on {session.Server} that is not protected matches {string.Join(", ", grant.Vms)}, so there is nothing to give agent '{grant.Agent}' access to on the host.")
                { Host = session.Server, Target = grant.Agent };
            }
        }

        var datastore = (await session.Inventory.GetDatastoresAsync(ct).ConfigureAwait(false)).Select(d => d.Name).Order(StringComparer.Ordinal).FirstOrDefault()
            ?? throw new CesoException("HostGrantNoDatastore", CesoErrorKind.InvalidState, $"{session.Server} has no datastore for the grant's removal script.") { Host = session.Server };
        var script = ScriptPath(datastore, grant.Id).Vmfs;
        var record = new HostGrantRecord(grant.Id, grant.Agent, session.Server, credential.User, role, entities, script, grant.ExpiresAt);
        var cron = CronLine(script, grant.Id, grant.ExpiresAt);
        var host = session.Server;
        var target = $"{host}/{credential.User}";
        var steps = new List<PlanStep>();
        var i = accounts.Interpreter;
        // A role the host has not got yet is made first; its id is the host's to give, learnt by the run.
        int? roleId = roles.TryGetValue(role, out var known) ? known : null;
        if (roleId is null)
        {
            steps.Add(HostAgentAccounts.Step(i, $"Add the role '{role}' ({privileges.Count} privileges)", host, new AddHostRole(role, privileges), null));
        }

        foreach (var e in entities)
        {
            steps.Add(HostAgentAccounts.Step(i, $"Give '{credential.User}' the role '{role}' on {e.Display} until {grant.ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm}Z", target,
                new SetHostPermission(e, credential.User, role, roleId, Propagate: true), Restore(roles, e, credential.User)));
        }

        steps.Add(Ssh(i, $"Write the removal script {script}", target, ShellCommandLine.Of("printf", "%s", Script(record, cron)).WriteTo(script),
            ShellCommandLine.Of("rm", "-f", script)));
        steps.Add(Ssh(i, $"Schedule the removal at expiry in {Crontab}", target,
            ShellCommandLine.Of("echo", cron).AppendTo(Crontab).AndReloadCrond(),
            ShellCommandLine.Of("sed", "-i", $"/ceso-grant {grant.Id}/d", Crontab).AndReloadCrond()));
        var boot = $"/bin/sh {ShellQuote.Quote(script)} boot # ceso-grant {grant.Id}";
        steps.Add(Ssh(i, $"Check the grant's expiry at boot in {LocalSh}", target,
            ShellCommandLine.Of("grep", "-q", "^exit 0", LocalSh).And("sed", "-i", $"/^exit 0/i {boot}", LocalSh).Or("echo", boot).AppendTo(LocalSh),
            ShellCommandLine.Of("sed", "-i", $"/ceso-grant {grant.Id}/d", LocalSh)));
        var store = new HostGrantStore(home);
        steps.Add(new PlanStep
        {
            Title = $"Record the host side of grant {grant.Id}",
            Target = $"agent '{grant.Agent}'",
            Transport = "local",
            Command = $"write {store.PathOf(grant.Id)}",
            Execute = _ =>
            {
                store.Save(record);
                return Task.CompletedTask;
            },
            UndoCommand = $"delete {store.PathOf(grant.Id)}",
            Undo = _ =>
            {
                store.Delete(grant.Id);
                return Task.CompletedTask;
            },
        });
        return (steps, notes);
    }

    /// <summary>
    /// Plans removing a grant's host side now: the permissions (the root folder back to ReadOnly), the crontab and boot
    /// lines, the script and the record.
    /// </summary>
    public async Task<IReadOnlyList<PlanStep>> PlanRevokeAsync(HostGrantRecord record, CancellationToken ct)
    {
        var ssh = session.Ssh ?? throw new CesoException("HostGrantNeedsSsh", CesoErrorKind.InvalidArgument,
            $"Revoking the host side of grant {record.GrantId} edits the host's crontab, which needs SSH: connect to {session.Server} with -SshUser root too.")
        { Host = session.Server, Target = record.GrantId };
        var accounts = new HostAgentAccounts(session, home);
        var i = accounts.Interpreter;
        var roles = await accounts.Commands.RolesAsync(ct).ConfigureAwait(false);
        var target = $"{session.Server}/{record.User}";
        var steps = record.Entities
            .Select(e => HostAgentAccounts.Step(i, e == PermissionEntity.HostRoot ? $"Give '{record.User}' back only {HostAgentAccounts.ReadOnlyRole} on {e.Display}" : $"Remove the permission of '{record.User}' on {e.Display}",
                target, Restore(roles, e, record.User), null))
            .ToList();
        steps.Add(Ssh(i, $"Remove the scheduled removal of grant {record.GrantId} and its script", target,
            ShellCommandLine.Of("sed", "-i", $"/ceso-grant {record.GrantId}/d", Crontab, LocalSh).AndReloadCrond().And("rm", "-f", record.Script), null));
        var store = new HostGrantStore(home);
        steps.Add(new PlanStep
        {
            Title = $"Delete the record of grant {record.GrantId}'s host side",
            Target = $"agent '{record.Agent}'",
            Transport = "local",
            Command = $"delete {store.PathOf(record.GrantId)}",
            Execute = _ =>
            {
                store.Delete(record.GrantId);
                return Task.CompletedTask;
            },
        });
        return steps;
    }

    // What ends a grant's permission: on the root folder the account's ReadOnly again, on a VM no permission of its own.
    private static StepAction Restore(IReadOnlyDictionary<string, int> roles, PermissionEntity e, string user) =>
        e == PermissionEntity.HostRoot
            ? new SetHostPermission(e, user, HostAgentAccounts.ReadOnlyRole, roles.TryGetValue(HostAgentAccounts.ReadOnlyRole, out var id) ? id : -2, Propagate: true)
            : new RemoveHostPermission(e, user);

    private static PlanStep Ssh(PlanInterpreter i, string title, string target, ShellCommandLine line, ShellCommandLine? undo) =>
        HostAgentAccounts.Step(i, title, target, new RunShell(line.ToString()), undo is null ? null : new RunShell(undo.ToString()));
}
