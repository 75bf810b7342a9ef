using System.Globalization;
using System.Net;
using System.Text.Json;
using Ceso.Engine.Connection;
using Ceso.Engine.Model;
using Microsoft.Data.Sqlite;

namespace Ceso.Engine.State;

/// <summary>
/// IP pools and their leases in one SQLite file, <c>$CESO_HOME/ippools.db</c>. Every change is one transaction begun
/// with <c>BEGIN IMMEDIATE</c> (the write lock first, so two processes cannot both read an address as free and both
/// take it) with a busy timeout, so concurrent processes and runspaces queue instead of failing. Leasing picks the
/// lowest address of the pool's ranges (in the order given) that is not leased, not reserved (network, broadcast,
/// gateway) and not in the caller's list of addresses the host's VMs use.
/// </summary>
public sealed class IpPoolStore
{
    /// <summary>How long a writer waits for another one's transaction before giving up.</summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The store of a Ceso home (the file is created when first opened).</summary>
    public IpPoolStore(CesoHome home) => FilePath = System.IO.Path.Combine(home.Path, "ippools.db");

    /// <summary>The database file.</summary>
    public string FilePath { get; }

    /// <summary>Creates a pool; <c>IPPoolExists</c> for a taken name, <c>IPPoolOverlaps</c> when its ranges meet another pool's.</summary>
    public async Task<CesoIPPool> CreateAsync(IpPoolSpec spec, CancellationToken ct = default)
    {
        await using var db = await OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await BeginAsync(db, ct).ConfigureAwait(false);
        var existing = await ReadPoolsAsync(db, null, ct).ConfigureAwait(false);
        if (existing.FirstOrDefault(p => p.Name.Equals(spec.Name, StringComparison.OrdinalIgnoreCase)) is { } same)
        {
            throw new CesoException("IPPoolExists", CesoErrorKind.InvalidState,
                $"An IP pool named '{same.Name}' exists already ({same.Spec.Subnet}). Choose another name, or remove it first (Remove-CesoIPPool '{same.Name}').") { Target = spec.Name };
        }

        foreach (var other in existing)
        {
            foreach (var r in spec.Ranges)
            {
                if (other.Ranges.FirstOrDefault(o => o.Start.AddressFamily == r.Start.AddressFamily && o.First <= r.Last && r.First <= o.Last) is { } hit)
                {
                    throw new CesoException("IPPoolOverlaps", CesoErrorKind.InvalidArgument,
                        $"Range {r} of '{spec.Name}' overlaps range {hit} of pool '{other.Name}'; two pools would hand out the same address. Give ranges that do not overlap.") { Target = spec.Name };
                }
            }
        }

        await ExecAsync(db, "INSERT INTO pool (name, subnet, ranges, gateway, dns, search, description, created) VALUES ($n, $s, $r, $g, $d, $q, $desc, $c)", ct,
            ("$n", spec.Name), ("$s", spec.Subnet), ("$r", JsonSerializer.Serialize(spec.Ranges.Select(r => r.ToString()))),
            ("$g", spec.Gateway?.ToString()), ("$d", JsonSerializer.Serialize(spec.DnsServers.Select(d => d.ToString()))),
            ("$q", JsonSerializer.Serialize(spec.SearchDomains)), ("$desc", spec.Description), ("$c", Now())).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return (await ListAsync(spec.Name, ct).ConfigureAwait(false)).Single();
    }

    /// <summary>Every pool (or the one named, any case), by name, with its lease count.</summary>
    public async Task<IReadOnlyList<CesoIPPool>> ListAsync(string? name = null, CancellationToken ct = default)
    {
        if (!File.Exists(FilePath))
        {
            return [];
        }

        await using var db = await OpenAsync(ct).ConfigureAwait(false);
        var pools = await ReadPoolsAsync(db, name, ct).ConfigureAwait(false);
        var used = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        await using (var count = Command(db, "SELECT pool, COUNT(*) FROM lease GROUP BY pool"))
        await using (var r = await count.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false)) used[r.GetString(0)] = r.GetInt32(1);
        }

        return pools.Select(p => p.ToPool(used.GetValueOrDefault(p.Name))).ToList();
    }

    /// <summary>The pool of that name; <c>IPPoolNotFound</c> when there is none.</summary>
    public async Task<CesoIPPool> GetAsync(string name, CancellationToken ct = default) =>
        (await ListAsync(name, ct).ConfigureAwait(false)).SingleOrDefault() ?? throw NotFound(name);

    /// <summary>
    /// Removes a pool. With leases it is refused (<c>IPPoolInUse</c>) unless <paramref name="force"/>, which drops
    /// them too (the VMs keep their addresses; only the record goes). Returns the leases dropped.
    /// </summary>
    public async Task<IReadOnlyList<CesoIPLease>> RemoveAsync(string name, bool force, CancellationToken ct = default)
    {
        await using var db = await OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await BeginAsync(db, ct).ConfigureAwait(false);
        var pool = (await ReadPoolsAsync(db, name, ct).ConfigureAwait(false)).SingleOrDefault() ?? throw NotFound(name);
        var leases = await ReadLeasesAsync(db, pool.Name, ct).ConfigureAwait(false);
        if (leases.Count > 0 && !force)
        {
            throw new CesoException("IPPoolInUse", CesoErrorKind.InvalidState,
                $"IP pool '{pool.Name}' has {leases.Count} lease(s) ({string.Join(", ", leases.Take(5).Select(l => $"{l.IPAddress} for '{l.VmName}'"))}{(leases.Count > 5 ? ", …" : "")}). Remove those VMs (Remove-CesoVm) or their leases (Get-CesoIPLease -Pool '{pool.Name}' | Remove-CesoIPLease) first, or add -Force to drop the leases with the pool.") { Target = name };
        }

        await ExecAsync(db, "DELETE FROM lease WHERE pool = $p", ct, ("$p", pool.Name)).ConfigureAwait(false);
        await ExecAsync(db, "DELETE FROM pool WHERE name = $p", ct, ("$p", pool.Name)).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return leases;
    }

    /// <summary>The address a lease would take now, without taking it (for -WhatIf); <c>IPPoolExhausted</c> when none is free.</summary>
    public async Task<CesoIPPoolAddress> PeekAsync(string pool, IEnumerable<IPAddress> used, CancellationToken ct = default)
    {
        await using var db = await OpenAsync(ct).ConfigureAwait(false);
        var p = (await ReadPoolsAsync(db, pool, ct).ConfigureAwait(false)).SingleOrDefault() ?? throw NotFound(pool);
        var address = await NextFreeAsync(db, p, used, ct).ConfigureAwait(false);
        return p.Address(address, leased: false);
    }

    /// <summary>
    /// Leases the next free address for a VM in one transaction: concurrent callers, in any process, never get the
    /// same address. <c>IPPoolExhausted</c> when none is free.
    /// </summary>
    public async Task<CesoIPPoolAddress> LeaseAsync(string pool, IEnumerable<IPAddress> used, string server, string vmName, string? vmId = null, CancellationToken ct = default)
    {
        var usedList = used.ToList();
        await using var db = await OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await BeginAsync(db, ct).ConfigureAwait(false);
        var p = (await ReadPoolsAsync(db, pool, ct).ConfigureAwait(false)).SingleOrDefault() ?? throw NotFound(pool);
        var address = await NextFreeAsync(db, p, usedList, ct).ConfigureAwait(false);
        await ExecAsync(db, "INSERT INTO lease (pool, address, server, vm_name, vm_id, time) VALUES ($p, $a, $s, $v, $i, $t)", ct,
            ("$p", p.Name), ("$a", IpNumber.Canonical(address)), ("$s", server), ("$v", vmName), ("$i", vmId), ("$t", Now())).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return p.Address(address, leased: true);
    }

    /// <summary>Records the VM's id on its lease once the VM exists.</summary>
    public async Task SetVmIdAsync(string pool, string address, string vmId, CancellationToken ct = default)
    {
        await using var db = await OpenAsync(ct).ConfigureAwait(false);
        await ExecAsync(db, "UPDATE lease SET vm_id = $i WHERE pool = $p AND address = $a", ct, ("$i", vmId), ("$p", pool), ("$a", Canonical(address))).ConfigureAwait(false);
    }

    /// <summary>Releases one lease; false when there was none.</summary>
    public async Task<bool> ReleaseAsync(string pool, string address, CancellationToken ct = default)
    {
        if (!File.Exists(FilePath))
        {
            return false;
        }

        await using var db = await OpenAsync(ct).ConfigureAwait(false);
        return await ExecAsync(db, "DELETE FROM lease WHERE pool = $p AND address = $a", ct, ("$p", pool), ("$a", Canonical(address))).ConfigureAwait(false) > 0;
    }

    /// <summary>
    /// Releases every lease of a VM on a server: by its id when the lease knows one, else by its name. Returns the
    /// leases released. <paramref name="except"/> keeps one address (a re-IP that leased it just now).
    /// </summary>
    public async Task<IReadOnlyList<CesoIPLease>> ReleaseVmAsync(string server, string vmName, string? vmId, string? except = null, CancellationToken ct = default)
    {
        if (!File.Exists(FilePath))
        {
            return [];
        }

        await using var db = await OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await BeginAsync(db, ct).ConfigureAwait(false);
        var mine = (await ReadLeasesAsync(db, null, ct).ConfigureAwait(false))
            .Where(l => l.Server.Equals(server, StringComparison.OrdinalIgnoreCase)
                        && (l.VmId is not null && vmId is not null ? l.VmId == vmId : l.VmName.Equals(vmName, StringComparison.Ordinal))
                        && (except is null || l.IPAddress != Canonical(except)))
            .ToList();
        foreach (var l in mine)
        {
            await ExecAsync(db, "DELETE FROM lease WHERE pool = $p AND address = $a", ct, ("$p", l.Pool), ("$a", l.IPAddress)).ConfigureAwait(false);
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
        return mine;
    }

    /// <summary>The leases, of one pool or all, by pool and address.</summary>
    public async Task<IReadOnlyList<CesoIPLease>> ListLeasesAsync(string? pool = null, CancellationToken ct = default)
    {
        if (!File.Exists(FilePath))
        {
            return [];
        }

        await using var db = await OpenAsync(ct).ConfigureAwait(false);
        return await ReadLeasesAsync(db, pool, ct).ConfigureAwait(false);
    }

    /// <summary>Pool names for tab completion: a local read, empty when there is no store (never throws for a missing or locked file).</summary>
    public IReadOnlyList<string> Names()
    {
        try
        {
            return ListAsync().GetAwaiter().GetResult().Select(p => p.Name).ToList();
        }
        catch (SqliteException)
        {
            return [];
        }
    }

    private async Task<IPAddress> NextFreeAsync(SqliteConnection db, StoredPool p, IEnumerable<IPAddress> used, CancellationToken ct)
    {
        var taken = new HashSet<UInt128>();
        await using (var q = Command(db, "SELECT address FROM lease"))
        await using (var r = await q.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                if (IPAddress.TryParse(r.GetString(0), out var a) && a.AddressFamily == p.Family) taken.Add(IpNumber.Of(a));
            }
        }

        var fromHost = 0;
        foreach (var a in used.Select(u => u.IsIPv4MappedToIPv6 ? u.MapToIPv4() : u).Where(u => u.AddressFamily == p.Family))
        {
            if (taken.Add(IpNumber.Of(a)) && p.Ranges.Any(r => r.Contains(a))) fromHost++;
        }

        foreach (var a in p.Spec.Reserved)
        {
            taken.Add(IpNumber.Of(a));
        }

        foreach (var range in p.Ranges)
        {
            for (var n = range.First; ; n++)
            {
                if (!taken.Contains(n))
                {
                    return IpNumber.ToAddress(n, p.Family);
                }

                if (n == range.Last) break;
            }
        }

        throw new CesoException("IPPoolExhausted", CesoErrorKind.InvalidState,
            $"IP pool '{p.Name}' ({p.Spec.Subnet}, {string.Join(", ", p.Ranges)}) has no free address: every one is leased{(fromHost > 0 ? $" or used by a VM on the host ({fromHost} without a lease)" : "")}. " +
            $"Free leases of VMs that are gone (Get-CesoIPLease -Pool '{p.Name}'; Remove-CesoIPLease), or make a larger pool (New-CesoIPPool with more -Range).")
        { Target = p.Name };
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(FilePath)!);
        // No pooling: the file is closed when the call ends. Default Timeout is the driver's own wait on SQLITE_BUSY.
        var db = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Pooling = false,
            DefaultTimeout = (int)BusyTimeout.TotalSeconds,
        }.ToString());
        await db.OpenAsync(ct).ConfigureAwait(false);
        await ExecAsync(db, $"PRAGMA busy_timeout = {(int)BusyTimeout.TotalMilliseconds}", ct).ConfigureAwait(false);
        await ExecAsync(db,
            "CREATE TABLE IF NOT EXISTS pool (name TEXT PRIMARY KEY COLLATE NOCASE, subnet TEXT NOT NULL, ranges TEXT NOT NULL, gateway TEXT, " +
            "dns TEXT NOT NULL, search TEXT NOT NULL, description TEXT, created TEXT NOT NULL);" +
            "CREATE TABLE IF NOT EXISTS lease (pool TEXT NOT NULL COLLATE NOCASE, address TEXT NOT NULL, server TEXT NOT NULL, vm_name TEXT NOT NULL, " +
            "vm_id TEXT, time TEXT NOT NULL, PRIMARY KEY (pool, address));", ct).ConfigureAwait(false);
        return db;
    }

    // BEGIN IMMEDIATE: the write lock is taken before anything is read, so the read-then-insert of a lease is atomic.
    private static async Task<SqliteTransaction> BeginAsync(SqliteConnection db, CancellationToken ct) =>
        (SqliteTransaction)await db.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, ct).ConfigureAwait(false);

    private static async Task<List<StoredPool>> ReadPoolsAsync(SqliteConnection db, string? name, CancellationToken ct)
    {
        var pools = new List<StoredPool>();
        await using var q = name is null
            ? Command(db, "SELECT name, subnet, ranges, gateway, dns, search, description, created FROM pool ORDER BY name")
            : Command(db, "SELECT name, subnet, ranges, gateway, dns, search, description, created FROM pool WHERE name = $n", ("$n", name));
        await using var r = await q.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            var spec = IpPoolSpec.Parse(r.GetString(0), r.GetString(1), Strings(r.GetString(2)), r.IsDBNull(3) ? null : r.GetString(3),
                Strings(r.GetString(4)), Strings(r.GetString(5)), r.IsDBNull(6) ? null : r.GetString(6));
            pools.Add(new StoredPool(spec, DateTimeOffset.Parse(r.GetString(7), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)));
        }

        return pools;
    }

    private static async Task<List<CesoIPLease>> ReadLeasesAsync(SqliteConnection db, string? pool, CancellationToken ct)
    {
        var prefixes = (await ReadPoolsAsync(db, pool, ct).ConfigureAwait(false)).ToDictionary(p => p.Name, p => p.Spec.PrefixLength, StringComparer.OrdinalIgnoreCase);
        var leases = new List<CesoIPLease>();
        await using var q = pool is null
            ? Command(db, "SELECT pool, address, server, vm_name, vm_id, time FROM lease")
            : Command(db, "SELECT pool, address, server, vm_name, vm_id, time FROM lease WHERE pool = $p", ("$p", pool));
        await using var r = await q.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            leases.Add(new CesoIPLease
            {
                Pool = prefixes.Keys.FirstOrDefault(k => k.Equals(r.GetString(0), StringComparison.OrdinalIgnoreCase)) ?? r.GetString(0),
                IPAddress = r.GetString(1),
                PrefixLength = prefixes.GetValueOrDefault(r.GetString(0)),
                Server = r.GetString(2),
                VmName = r.GetString(3),
                VmId = r.IsDBNull(4) ? null : r.GetString(4),
                Time = DateTimeOffset.Parse(r.GetString(5), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
            });
        }

        return leases.OrderBy(l => l.Pool, StringComparer.OrdinalIgnoreCase)
            .ThenBy(l => IPAddress.TryParse(l.IPAddress, out var a) ? IpNumber.Of(a) : UInt128.MaxValue).ToList();
    }

    private static string Canonical(string address) => IPAddress.TryParse(address, out var a) ? IpNumber.Canonical(a) : address;

    private static string[] Strings(string json) => JsonSerializer.Deserialize<string[]>(json) ?? [];

    private static string Now() => DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);

    private static CesoException NotFound(string name) =>
        new("IPPoolNotFound", CesoErrorKind.NotFound, $"There is no IP pool named '{name}'. List the pools with Get-CesoIPPool, or create one with New-CesoIPPool -Name {name} -Subnet … -Range ….") { Target = name };

    private static async Task<int> ExecAsync(SqliteConnection db, string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(db, sql, parameters);
        return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static SqliteCommand Command(SqliteConnection db, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = db.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    private sealed record StoredPool(IpPoolSpec Spec, DateTimeOffset Created)
    {
        public string Name => Spec.Name;
        public IReadOnlyList<IpRange> Ranges => Spec.Ranges;
        public System.Net.Sockets.AddressFamily Family => Spec.Network.AddressFamily;

        public CesoIPPool ToPool(int used) => new()
        {
            Name = Spec.Name,
            Subnet = Spec.Subnet,
            Ranges = Spec.Ranges.Select(r => r.ToString()).ToList(),
            Gateway = Spec.Gateway?.ToString(),
            DnsServers = Spec.DnsServers.Select(d => d.ToString()).ToList(),
            SearchDomains = Spec.SearchDomains,
            Description = Spec.Description,
            Size = Spec.Size,
            Used = used,
            Free = System.Numerics.BigInteger.Max(0, Spec.Size - used),
            Created = Created,
        };

        public CesoIPPoolAddress Address(IPAddress a, bool leased) => new()
        {
            Pool = Spec.Name,
            IPAddress = IpNumber.Canonical(a),
            PrefixLength = Spec.PrefixLength,
            Gateway = Spec.Gateway?.ToString(),
            DnsServers = Spec.DnsServers.Select(d => d.ToString()).ToList(),
            SearchDomains = Spec.SearchDomains,
            Leased = leased,
        };
    }
}
