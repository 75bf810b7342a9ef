using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Ceso.Engine.Connection;
using Microsoft.Data.Sqlite;

namespace Ceso.Engine.Security;

/// <summary>
/// Time-limited access a person gives an AI agent to change hosts: for everything, for some operations, for some VMs,
/// on one server — or for exactly one previewed plan, once (<see cref="Plan"/> = the digest -WhatIf printed).
/// </summary>
/// <param name="Id">"g-" and 12 hex digits.</param>
/// <param name="Agent">The agent's name (as CESO_AGENT gives it).</param>
/// <param name="GrantedBy">The OS user that granted it.</param>
/// <param name="GrantedAt">When.</param>
/// <param name="ExpiresAt">When it stops allowing anything.</param>
/// <param name="Server">The host it is limited to (as plans name it), or null for any.</param>
/// <param name="Vms">VM names or wildcard patterns it is limited to; empty = any (a plan about no VM needs an empty list).</param>
/// <param name="Operations">Operations (CreateVm, CloneVm, …) it is limited to; empty = any.</param>
/// <param name="Plan">The one plan it allows, once ("sha256:…"), or null.</param>
/// <param name="UsedAt">When a plan grant was used (it allows nothing after that).</param>
/// <param name="RevokedAt">When it was revoked.</param>
public sealed record AgentGrant(
    string Id, string Agent, string GrantedBy, DateTimeOffset GrantedAt, DateTimeOffset ExpiresAt, string? Server,
    IReadOnlyList<string> Vms, IReadOnlyList<string> Operations, string? Plan, DateTimeOffset? UsedAt, DateTimeOffset? RevokedAt)
{
    /// <summary>Active, Expired, Used (a plan grant after its run) or Revoked, as of <paramref name="now"/>.</summary>
    public AgentGrantStatus StatusAt(DateTimeOffset now) =>
        RevokedAt is not null ? AgentGrantStatus.Revoked
        : UsedAt is not null ? AgentGrantStatus.Used
        : now >= ExpiresAt ? AgentGrantStatus.Expired
        : AgentGrantStatus.Active;

    /// <summary>Whether it allows <paramref name="agent"/> to run the plan described by the other arguments at <paramref name="now"/>.</summary>
    public bool Allows(string agent, string operation, string host, string? vm, string digest, DateTimeOffset now) =>
        StatusAt(now) == AgentGrantStatus.Active
        && Agent.Equals(agent, StringComparison.OrdinalIgnoreCase)
        && (Server is null || Server.Equals(host, StringComparison.OrdinalIgnoreCase))
        && (Operations.Count == 0 || Operations.Contains(operation, StringComparer.OrdinalIgnoreCase))
        && (Vms.Count == 0 || (vm is not null && Vms.Any(p => Matches(p, vm))))
        && (Plan is null || Plan.Equals(digest, StringComparison.OrdinalIgnoreCase));

    /// <summary>A name against a pattern with * and ? (case-insensitive), as PowerShell's wildcards without brackets.</summary>
    public static bool Matches(string pattern, string name) =>
        System.Text.RegularExpressions.Regex.IsMatch(name,
            "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$",
            System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>What it allows, in a few words ("CloneVm on web*, on esx01, until 14:00Z").</summary>
    public string Scope =>
        (Plan is not null ? $"exactly plan {Plan}, once" : Operations.Count == 0 ? "any change" : string.Join(", ", Operations))
        + (Vms.Count == 0 ? "" : $" on {string.Join(", ", Vms)}")
        + (Server is null ? "" : $" at {Server}");
}

/// <summary>The life of a grant.</summary>
public enum AgentGrantStatus
{
    /// <summary>Allows what it names until it expires.</summary>
    Active,

    /// <summary>Its time ran out.</summary>
    Expired,

    /// <summary>A plan grant whose one run happened.</summary>
    Used,

    /// <summary>A person revoked it.</summary>
    Revoked,
}

/// <summary>
/// The grants of one Ceso home, in SQLite ($CESO_HOME/agents/grants.db): added by a person, used by the plan runner when
/// an agent's plan is about to run (a plan grant is marked used in the same transaction that finds it, so two runs
/// never share one), revoked by a person. A guardrail, not a boundary: an agent running as the same OS user can edit
/// this file (docs/security.md).
/// </summary>
public sealed class AgentGrantStore(CesoHome home)
{
    /// <summary>The longest a grant may last: access for an agent is meant to be short.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(7);

    /// <summary>The database file.</summary>
    public string Path => home.File("agents", "grants.db");

    /// <summary>A new grant id.</summary>
    public static string NewId() => "g-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant();

    /// <summary>Stores a grant.</summary>
    public void Add(AgentGrant grant)
    {
        using var db = Open();
        using var insert = Command(db,
            "INSERT INTO grants (id, agent, granted_by, granted_at, expires_at, server, vms, operations, plan) VALUES ($id, $agent, $by, $at, $expires, $server, $vms, $ops, $plan)",
            ("$id", grant.Id), ("$agent", grant.Agent), ("$by", grant.GrantedBy), ("$at", Text(grant.GrantedAt)),
            ("$expires", Text(grant.ExpiresAt)), ("$server", (object?)grant.Server ?? DBNull.Value),
            ("$vms", JsonSerializer.Serialize(grant.Vms)), ("$ops", JsonSerializer.Serialize(grant.Operations)),
            ("$plan", (object?)grant.Plan ?? DBNull.Value));
        insert.ExecuteNonQuery();
    }

    /// <summary>Every grant, oldest first; <paramref name="agent"/> null = of every agent.</summary>
    public IReadOnlyList<AgentGrant> List(string? agent = null)
    {
        if (!File.Exists(Path)) return [];
        using var db = Open();
        return Read(db, agent);
    }

    /// <summary>
    /// Finds a grant that allows the agent's plan now and, for a plan grant, marks it used in the same transaction;
    /// null when there is none. Grants for wider access are preferred over using up a plan grant.
    /// </summary>
    public AgentGrant? TryUse(string agent, string operation, string host, string? vm, string digest, DateTimeOffset now)
    {
        if (!File.Exists(Path)) return null;
        using var db = Open();
        using var tx = db.BeginTransaction(deferred: false); // BEGIN IMMEDIATE: one writer at a time
        var grant = Read(db, agent, tx)
            .Where(g => g.Allows(agent, operation, host, vm, digest, now))
            .OrderBy(g => g.Plan is null ? 0 : 1)
            .ThenBy(g => g.ExpiresAt)
            .FirstOrDefault();
        if (grant?.Plan is not null)
        {
            using var use = Command(db, "UPDATE grants SET used_at = $now WHERE id = $id AND used_at IS NULL", ("$now", Text(now)), ("$id", grant.Id));
            use.Transaction = tx;
            use.ExecuteNonQuery();
            grant = grant with { UsedAt = now };
        }

        tx.Commit();
        return grant;
    }

    /// <summary>Revokes active grants: one by id, or every grant of an agent; returns what was revoked.</summary>
    public IReadOnlyList<AgentGrant> Revoke(string? agent, string? id, DateTimeOffset now)
    {
        if (!File.Exists(Path)) return [];
        using var db = Open();
        using var tx = db.BeginTransaction(deferred: false);
        var revoked = Read(db, agent, tx)
            .Where(g => g.StatusAt(now) == AgentGrantStatus.Active && (id is null || g.Id.Equals(id, StringComparison.OrdinalIgnoreCase)))
            .ToList();
        foreach (var g in revoked)
        {
            using var update = Command(db, "UPDATE grants SET revoked_at = $now WHERE id = $id", ("$now", Text(now)), ("$id", g.Id));
            update.Transaction = tx;
            update.ExecuteNonQuery();
        }

        tx.Commit();
        return revoked.Select(g => g with { RevokedAt = now }).ToList();
    }

    private SqliteConnection Open()
    {
        // No pooling: the file is not held open after the call (a person may delete or inspect it).
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Pooling = false, DefaultTimeout = 30 }.ToString());
        db.Open();
        using var schema = Command(db,
            "PRAGMA busy_timeout = 30000;" +
            "CREATE TABLE IF NOT EXISTS grants (id TEXT PRIMARY KEY, agent TEXT NOT NULL COLLATE NOCASE, granted_by TEXT NOT NULL, " +
            "granted_at TEXT NOT NULL, expires_at TEXT NOT NULL, server TEXT, vms TEXT NOT NULL, operations TEXT NOT NULL, plan TEXT, " +
            "used_at TEXT, revoked_at TEXT);");
        schema.ExecuteNonQuery();
        return db;
    }

    private static List<AgentGrant> Read(SqliteConnection db, string? agent, SqliteTransaction? tx = null)
    {
        using var query = Command(db,
            "SELECT id, agent, granted_by, granted_at, expires_at, server, vms, operations, plan, used_at, revoked_at FROM grants " +
            "WHERE $agent IS NULL OR agent = $agent ORDER BY granted_at, id", ("$agent", (object?)agent ?? DBNull.Value));
        query.Transaction = tx;
        using var r = query.ExecuteReader();
        var result = new List<AgentGrant>();
        while (r.Read())
        {
            result.Add(new AgentGrant(r.GetString(0), r.GetString(1), r.GetString(2), Time(r.GetString(3)), Time(r.GetString(4)),
                r.IsDBNull(5) ? null : r.GetString(5), JsonSerializer.Deserialize<string[]>(r.GetString(6)) ?? [],
                JsonSerializer.Deserialize<string[]>(r.GetString(7)) ?? [], r.IsDBNull(8) ? null : r.GetString(8),
                r.IsDBNull(9) ? null : Time(r.GetString(9)), r.IsDBNull(10) ? null : Time(r.GetString(10))));
        }

        return result;
    }

    private static string Text(DateTimeOffset t) => t.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset Time(string s) => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private static SqliteCommand Command(SqliteConnection db, string sql, params (string Name, object Value)[] parameters)
    {
        var command = db.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return command;
    }
}

/// <summary>A grant as Get-CesoAgentAccess shows it: its status as of when it was read.</summary>
/// <param name="Id">The grant's id (Revoke-CesoAgentAccess -Id).</param>
/// <param name="Agent">The agent.</param>
/// <param name="Status">Active, Expired, Used or Revoked when read (text, so JSON reads it; see <see cref="AgentGrantStatus"/>).</param>
/// <param name="Scope">What it allows, in a few words.</param>
/// <param name="ExpiresAt">When it stops allowing anything.</param>
/// <param name="GrantedBy">The OS user that granted it.</param>
/// <param name="GrantedAt">When.</param>
/// <param name="Server">The host it is limited to, or null.</param>
/// <param name="Vm">The VM names or patterns it is limited to (empty = any).</param>
/// <param name="Operation">The operations it is limited to (empty = any).</param>
/// <param name="Plan">The one plan it allows once, or null.</param>
/// <param name="UsedAt">When its one plan ran.</param>
/// <param name="RevokedAt">When it was revoked.</param>
public sealed record AgentAccess(
    string Id, string Agent, string Status, string Scope, DateTimeOffset ExpiresAt, string GrantedBy, DateTimeOffset GrantedAt,
    string? Server, IReadOnlyList<string> Vm, IReadOnlyList<string> Operation, string? Plan, DateTimeOffset? UsedAt, DateTimeOffset? RevokedAt)
{
    /// <summary>The grant as of <paramref name="now"/>.</summary>
    public static AgentAccess Of(AgentGrant g, DateTimeOffset now) =>
        new(g.Id, g.Agent, g.StatusAt(now).ToString(), g.Scope, g.ExpiresAt, g.GrantedBy, g.GrantedAt, g.Server, g.Vms, g.Operations, g.Plan, g.UsedAt, g.RevokedAt);
}
