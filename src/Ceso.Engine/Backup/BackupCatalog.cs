using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Ceso.Engine.Backup;

/// <summary>
/// A local cache of snapshot summaries, one SQLite file per repository id (<c>&lt;folder&gt;/&lt;repository id&gt;.db</c>)
/// under the folder the caller passes (the cmdlets pass <c>$CESO_HOME/catalog</c>). The repository stays the truth:
/// <see cref="RefreshAsync"/> adds the snapshots it lacks (reading only their manifests) and drops the ones gone, and
/// deleting the folder loses nothing. Completers and listings read <see cref="ListAsync"/> without opening a repository.
/// </summary>
public sealed class BackupCatalog
{
    /// <summary>A catalog kept in <paramref name="folder"/> (created when first written).</summary>
    public BackupCatalog(string folder) => Folder = Path.GetFullPath(folder);

    /// <summary>The catalog folder.</summary>
    public string Folder { get; }

    /// <summary>The database file of a repository.</summary>
    public string PathOf(string repositoryId)
    {
        if (repositoryId.Length != 64 || !repositoryId.All(Uri.IsHexDigit)) throw BackupErrors.Invalid($"'{repositoryId}' is not a repository id.");
        return Path.Combine(Folder, repositoryId.ToLowerInvariant() + ".db");
    }

    /// <summary>Brings the repository's entry up to date with its snapshot list and returns it, oldest first.</summary>
    public async Task<IReadOnlyList<BackupSnapshot>> RefreshAsync(BackupRepository repository, CancellationToken ct = default)
    {
        Directory.CreateDirectory(Folder);
        var names = (await repository.ListSnapshotNamesAsync(ct).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        await using var db = await OpenAsync(repository.Id, ct).ConfigureAwait(false);
        var cached = new HashSet<string>(StringComparer.Ordinal);
        await using (var list = Command(db, "SELECT id FROM snapshot"))
        await using (var reader = await list.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false)) cached.Add(reader.GetString(0));
        }

        var added = new List<BackupSnapshot>();
        foreach (var name in names.Where(n => !cached.Contains(n)))
        {
            added.Add((await repository.LoadManifestAsync(name, ct).ConfigureAwait(false)).ToSummary());
        }

        await using var tx = (SqliteTransaction)await db.BeginTransactionAsync(ct).ConfigureAwait(false);
        foreach (var gone in cached.Where(c => !names.Contains(c)))
        {
            await using var delete = Command(db, "DELETE FROM snapshot WHERE id = $id", ("$id", gone));
            await delete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        foreach (var s in added)
        {
            await using var insert = Command(db,
                "INSERT INTO snapshot (id, time, vm_name, vm_id, host, mode, tags, disk_count, logical_size, data_added, client_host) " +
                "VALUES ($id, $time, $vm, $vmid, $host, $mode, $tags, $disks, $size, $added, $client)",
                ("$id", s.Id), ("$time", s.Time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)), ("$vm", s.VmName), ("$vmid", s.VmId),
                ("$host", s.Host), ("$mode", s.Mode.ToString()), ("$tags", JsonSerializer.Serialize(s.Tags)), ("$disks", s.DiskCount),
                ("$size", s.LogicalSize), ("$added", s.DataAdded), ("$client", s.ClientHost));
            await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        await using (var meta = Command(db, "INSERT OR REPLACE INTO meta (key, value) VALUES ('location', $loc), ('refreshed', $now)",
            ("$loc", repository.Backend.Location), ("$now", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture))))
        {
            await meta.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
        return await ReadAsync(db, ct).ConfigureAwait(false);
    }

    /// <summary>The cached summaries of a repository, oldest first (empty when it was never refreshed here).</summary>
    public async Task<IReadOnlyList<BackupSnapshot>> ListAsync(string repositoryId, CancellationToken ct = default)
    {
        if (!File.Exists(PathOf(repositoryId))) return [];
        await using var db = await OpenAsync(repositoryId, ct).ConfigureAwait(false);
        return await ReadAsync(db, ct).ConfigureAwait(false);
    }

    private async Task<SqliteConnection> OpenAsync(string repositoryId, CancellationToken ct)
    {
        // No pooling: the file is closed when the call ends, so a deleted or copied catalog is never held open.
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = PathOf(repositoryId), Pooling = false }.ToString());
        await db.OpenAsync(ct).ConfigureAwait(false);
        await using var schema = Command(db,
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);" +
            "CREATE TABLE IF NOT EXISTS snapshot (id TEXT PRIMARY KEY, time TEXT NOT NULL, vm_name TEXT NOT NULL, vm_id TEXT NOT NULL, " +
            "host TEXT NOT NULL, mode TEXT NOT NULL, tags TEXT NOT NULL, disk_count INTEGER NOT NULL, logical_size INTEGER NOT NULL, " +
            "data_added INTEGER NOT NULL, client_host TEXT NOT NULL);" +
            "CREATE INDEX IF NOT EXISTS snapshot_vm ON snapshot (vm_id, time);");
        await schema.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        return db;
    }

    private static async Task<IReadOnlyList<BackupSnapshot>> ReadAsync(SqliteConnection db, CancellationToken ct)
    {
        var result = new List<BackupSnapshot>();
        await using var query = Command(db, "SELECT id, time, vm_name, vm_id, host, mode, tags, disk_count, logical_size, data_added, client_host FROM snapshot ORDER BY time, id");
        await using var r = await query.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            result.Add(new BackupSnapshot(r.GetString(0), DateTimeOffset.Parse(r.GetString(1), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                r.GetString(2), r.GetString(3), r.GetString(4), Enum.Parse<BackupMode>(r.GetString(5)),
                JsonSerializer.Deserialize<string[]>(r.GetString(6)) ?? [], r.GetInt32(7), r.GetInt64(8), r.GetInt64(9), r.GetString(10)));
        }

        return result;
    }

    private static SqliteCommand Command(SqliteConnection db, string sql, params (string Name, object Value)[] parameters)
    {
        var command = db.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return command;
    }
}
