using System.Security.Cryptography;
using Ceso.Engine.Connection;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;
using Ceso.Engine.Security;

namespace Ceso.Engine.Operations;

/// <summary>
/// The boundary on the host (docs/security.md): an ESXi local user per agent with the read-only role on the host's root
/// folder and No Access on protected VMs, so that whatever the agent runs with that credential — Ceso, govc, curl —
/// hostd refuses its writes (NoPermission) until a person widens the permission for a while. Every change is a plan.
/// </summary>
public sealed class HostAgentAccounts(CesoSession session, CesoHome home)
{
    /// <summary>The role every agent account holds on the host.</summary>
    public const string ReadOnlyRole = "ReadOnly";

    /// <summary>The role on protected VMs.</summary>
    public const string NoAccessRole = "NoAccess";

    private const string Symbols = "-_.:+=@%!";
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789" + Symbols;

    /// <summary>The store of the agents' credentials.</summary>
    public AgentCredentialStore Credentials { get; } = new(home);

    /// <summary>The account commands of the session: the API unless a free license refuses its writes or there is none, else SSH.</summary>
    public IHostAccountCommands Commands { get; } = CommandsFor(session);

    /// <summary>The steps' interpreter: account actions on <see cref="Commands"/>' transport choice, shell lines over SSH.</summary>
    internal PlanInterpreter Interpreter { get; } = PlanInterpreter.For(session, home);

    /// <summary>The account commands of <paramref name="session"/>: the API unless a free license refuses its writes or there is none, else SSH.</summary>
    internal static IHostAccountCommands CommandsFor(CesoSession session) =>
        session.Soap is { } soap && session.ServiceContent is { } content && !(session.Host.FreeLicense.Detected && session.Ssh is not null)
            ? new SoapHostAccountCommands(soap, content)
            : session.Ssh is { } ssh ? new SshHostAccountCommands(ssh, session.Server)
            : throw new CesoException("NoTransport", CesoErrorKind.InvalidArgument, $"Session {session.Server} has neither API nor SSH.") { Host = session.Server };

    /// <summary>The ESXi user of an agent: "ceso-" and its name in lower case, characters ESXi refuses as '-', at most 31.</summary>
    public static string UserFor(string agent)
    {
        var name = "ceso-" + new string(agent.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' ? c : '-').ToArray());
        return name.Length > 31 ? name[..31] : name;
    }

    /// <summary>A random password ESXi's default policy accepts (24 characters of four classes).</summary>
    public static string NewPassword()
    {
        while (true)
        {
            var p = RandomNumberGenerator.GetString(Alphabet, 24);
            if (p.Any(char.IsAsciiLetterUpper) && p.Any(char.IsAsciiLetterLower) && p.Any(char.IsAsciiDigit) && p.Any(c => Symbols.Contains(c)))
            {
                return p;
            }
        }
    }

    /// <summary>Whether the VM is protected for Ceso (its notes tag, or the local protection list).</summary>
    public bool IsProtected(CesoVm vm) =>
        vm.Annotation?.Contains(VmxIdentity.ProtectedTag, StringComparison.Ordinal) == true || new ProtectionList(home).IsListed(session.Server, vm.Name);

    /// <summary>
    /// Plans the agent's account: the user, ReadOnly on the host's root folder (propagating), No Access on each protected
    /// VM, then the credential file. <paramref name="password"/> is the new password (the caller registers it with the
    /// redactor); no step's text holds it. Refused when the agent already has a credential here.
    /// </summary>
    public async Task<(Plan Plan, AgentAccount Account)> PlanCreateAsync(string agent, string password, CancellationToken ct)
    {
        if (Credentials.Read(agent) is { } existing)
        {
            throw new CesoException("AgentAccountExists", CesoErrorKind.InvalidState,
                $"Agent '{agent}' already has an account ('{existing.User}' on {existing.Server}, {Credentials.PathOf(agent)}). Remove it first with Remove-CesoAgentAccount -Agent '{agent}'.")
            { Target = agent, Host = session.Server };
        }

        var user = UserFor(agent);
        var roles = await Commands.RolesAsync(ct).ConfigureAwait(false);
        var vms = await session.Inventory.GetVmsAsync(ct).ConfigureAwait(false);
        var protectedVms = vms.Where(IsProtected).OrderBy(v => v.Name, StringComparer.Ordinal).Select(v => PermissionEntity.Vm(v.Id, v.Name)).ToList();
        var host = session.Server;
        var i = Interpreter;
        var steps = new List<PlanStep>
        {
            Step(i, $"Create ESXi user '{user}' for agent '{agent}'", $"{host}/{user}", new CreateHostUser(user, $"Ceso agent {agent}", new Secret(password)), new RemoveHostUser(user)),
            Step(i, $"Give '{user}' the {ReadOnlyRole} role on {PermissionEntity.HostRoot.Display}", $"{host}/{user}",
                new SetHostPermission(PermissionEntity.HostRoot, user, ReadOnlyRole, RoleId(roles, ReadOnlyRole), Propagate: true),
                new RemoveHostPermission(PermissionEntity.HostRoot, user)),
        };
        foreach (var vm in protectedVms)
        {
            steps.Add(Step(i, $"Give '{user}' {NoAccessRole} on protected {vm.Display}", $"{host}/{vm.Name}",
                new SetHostPermission(vm, user, NoAccessRole, RoleId(roles, NoAccessRole), Propagate: true), new RemoveHostPermission(vm, user)));
        }

        var path = Credentials.PathOf(agent);
        var now = DateTimeOffset.UtcNow;
        steps.Add(new PlanStep
        {
            Title = $"Store the credential of '{user}' for agent '{agent}'",
            Target = $"agent '{agent}'",
            Transport = "local",
            Command = $"save the password of '{user}' in the credential store as '{AgentCredentialStore.EntryName(agent)}' (<redacted>); write {path} (mode 0600: user '{user}', server {host}, no password)",
            Execute = _ =>
            {
                Credentials.Save(new AgentCredential(agent, host, user, password, now, protectedVms));
                return Task.CompletedTask;
            },
            UndoCommand = $"delete {path}",
            Undo = _ =>
            {
                Credentials.Delete(agent);
                return Task.CompletedTask;
            },
        });
        var account = new AgentAccount(agent, host, user, ReadOnlyRole, protectedVms.Select(v => v.Name).ToList(), path, now);
        return (new Plan { Operation = "NewAgentAccount", Host = host, Steps = steps, Interpreter = Interpreter }, account);
    }

    /// <summary>
    /// Plans removing the agent's account: its permissions (the root folder's and the No Access ones it was given),
    /// the user, the credential file. Refused when the agent has no credential for this host.
    /// </summary>
    public async Task<(Plan Plan, AgentAccount Account)> PlanRemoveAsync(string agent, CancellationToken ct)
    {
        // The account's file alone: a person removes it also while the credential store is locked or gone.
        var credential = await Credentials.ReadAccountAsync(agent, ct).ConfigureAwait(false);
        if (credential is null || !credential.Server.Equals(session.Server, StringComparison.OrdinalIgnoreCase))
        {
            throw new CesoException("AgentAccountNotFound", CesoErrorKind.NotFound,
                credential is null
                    ? $"Agent '{agent}' has no account ({Credentials.PathOf(agent)} does not exist). New-CesoAgentAccount -Agent '{agent}' creates one."
                    : $"Agent '{agent}' has its account on {credential.Server}, not on {session.Server}: connect to {credential.Server} and run Remove-CesoAgentAccount there.")
            { Target = agent, Host = session.Server };
        }

        var host = session.Server;
        var user = credential.User;
        var steps = new List<PlanStep>();
        foreach (var entity in credential.NoAccess.Prepend(PermissionEntity.HostRoot))
        {
            steps.Add(Step(Interpreter, $"Remove the permission of '{user}' on {entity.Display}", $"{host}/{user}", new RemoveHostPermission(entity, user), null));
        }

        steps.Add(Step(Interpreter, $"Remove ESXi user '{user}'", $"{host}/{user}", new RemoveHostUser(user), null));
        var path = Credentials.PathOf(agent);
        steps.Add(new PlanStep
        {
            Title = $"Delete the credential of agent '{agent}'",
            Target = $"agent '{agent}'",
            Transport = "local",
            Command = $"delete {path}",
            Execute = _ =>
            {
                Credentials.Delete(agent);
                return Task.CompletedTask;
            },
        });
        var account = new AgentAccount(agent, host, user, ReadOnlyRole, credential.NoAccess.Select(v => v.Name).ToList(), path, credential.CreatedAt);
        return (new Plan { Operation = "RemoveAgentAccount", Host = host, Steps = steps, Interpreter = Interpreter }, account);
    }

    private int RoleId(IReadOnlyDictionary<string, int> roles, string role) =>
        roles.TryGetValue(role, out var id) ? id
        : throw new CesoException("HostRoleNotFound", CesoErrorKind.HostError, $"{session.Server} has no role '{role}' (its roles: {string.Join(", ", roles.Keys)}).") { Host = session.Server };

    /// <summary>
    /// A host step as data, owned by <paramref name="interpreter"/> (its session), so that a plan can hold steps of
    /// several hosts (Revoke-CesoAgentAccess of grants on two hosts).
    /// </summary>
    internal static PlanStep Step(PlanInterpreter interpreter, string title, string target, StepAction action, StepAction? undo)
    {
        var call = interpreter.Render(action);
        return interpreter.Own(new PlanStep
        {
            Title = title,
            Target = target,
            Transport = call.Transport,
            Command = call.Command,
            Action = action,
            UndoAction = undo,
            UndoCommand = undo is null ? null : interpreter.Render(undo).Command,
        });
    }
}
