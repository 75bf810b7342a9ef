using Ceso.Engine.Connection;

namespace Ceso.Engine.Security;

/// <summary>
/// Restricted mode for AI agents: a session driven by an agent (the front end names it in <see cref="AuditActor.Agent"/>,
/// from CESO_AGENT) reads and previews (-WhatIf) freely, and runs a change only when a person granted it
/// (<see cref="AgentGrantStore"/>); otherwise the change is refused before its first step with <c>AgentRestricted</c>,
/// naming the plan's digest and the command a person can run to allow exactly that run. The plan runner asks this
/// for every plan, so every front end gets it. A guardrail against an agent's mistakes, not a boundary against a hostile
/// process of the same OS user (docs/security.md): the boundary is the agent's own account on the host.
/// </summary>
public sealed class AgentPolicy(CesoHome home, AuditActor actor, TimeProvider? clock = null)
{
    /// <summary>Operations an agent may always run: giving up its own access.</summary>
    public static readonly IReadOnlySet<string> AlwaysAllowed = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "RevokeAgentAccess" };

    /// <summary>
    /// Operations no grant can allow an agent: it may not grant itself (or another agent) access, issue itself operator SSH
    /// certificates, or create or remove agent accounts on a host.
    /// </summary>
    public static readonly IReadOnlySet<string> NeverAllowed = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "GrantAgentAccess", "IssueSshCertificate", "NewAgentAccount", "RemoveAgentAccount",
    };

    /// <summary>
    /// The operations plans and configuration changes name, which a grant can be limited to (Grant-CesoAgentAccess
    /// -Operation completes and checks these).
    /// </summary>
    public static readonly IReadOnlyList<string> KnownOperations =
    [
        "CreateVm", "CloneVm", "ReconfigureVm", "StartVm", "ShutdownVm", "KillVm", "ResetVm", "RemoveVm",
        "ProtectVm", "UnprotectVm", "BackupVm", "RestoreVm", "RestoreVmInPlace", "RemoveBackup", "NewBackupRepository", "SetFirewallAllowlist",
        "NewIPPool", "RemoveIPPool", "RemoveIPLease", "RegisterTemplate", "UnregisterTemplate", "BootProbe",
    ];

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <summary>Whether an agent drives this session (every change then needs a grant).</summary>
    public bool Restricted => actor.Agent is not null;

    /// <summary>The grants this policy reads.</summary>
    public AgentGrantStore Grants { get; } = new(home);

    /// <summary>
    /// Decides whether the session's actor may run a change: null = no agent (a person drives) or an operation every
    /// agent may run; a grant = the agent may, and a plan grant is now used up; else an <c>AgentRestricted</c>
    /// CesoException (<see cref="AgentRestrictedException"/>) that says what was refused and how a person allows it.
    /// </summary>
    /// <param name="operation">The plan's operation (CloneVm, …).</param>
    /// <param name="host">The host the plan changes (as plans name it).</param>
    /// <param name="vm">The VM it is about, if any.</param>
    /// <param name="digest">The plan's digest, as -WhatIf printed it.</param>
    /// <param name="what">The plan in a few words ("CloneVm of 'web01' on esx01, 5 step(s)").</param>
    public AgentGrant? Authorize(string operation, string host, string? vm, string digest, string what)
    {
        if (actor.Agent is not { } agent || AlwaysAllowed.Contains(operation))
        {
            return null;
        }

        if (NeverAllowed.Contains(operation))
        {
            throw new AgentRestrictedException(agent, digest,
                $"Agent '{agent}' may not run {what}: only a person grants access or issues credentials, and no grant changes that. Nothing was changed. A person runs it in a session without CESO_AGENT.");
        }

        AgentGrant? grant;
        try
        {
            grant = Grants.TryUse(agent, operation, host, vm, digest, _clock.GetUtcNow());
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
        {
            throw new AgentRestrictedException(agent, digest,
                $"Agent '{agent}' may not run {what}: the grants in '{Grants.Path}' cannot be read ({e.Message}), so none applies. Nothing was changed.", e);
        }

        return grant ?? throw new AgentRestrictedException(agent, digest,
            $"Agent '{agent}' is restricted to reads and -WhatIf, and no grant allows {what} (plan {digest}); it was refused before its first step and nothing was changed. "
            + $"A person (not the agent) can allow exactly this run, once, with: Grant-CesoAgentAccess -Agent '{agent.Replace("'", "''")}' -Plan {digest} -Duration 1h");
    }
}

/// <summary>An agent's change refused by <see cref="AgentPolicy"/>: nothing ran.</summary>
/// <param name="agent">The agent.</param>
/// <param name="digest">The digest of the refused plan (what a person would grant).</param>
/// <param name="message">What was refused and how a person allows it.</param>
/// <param name="inner">Why the grants could not be read, if that was the reason.</param>
public sealed class AgentRestrictedException(string agent, string digest, string message, Exception? inner = null)
    : CesoException("AgentRestricted", CesoErrorKind.Security, message, inner)
{
    /// <summary>The agent.</summary>
    public string Agent { get; } = agent;

    /// <summary>The refused plan's digest.</summary>
    public string PlanDigest { get; } = digest;
}
