using Ceso.Engine.Backup;
using Ceso.Engine.Configuration;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;

namespace Ceso.Engine.Operations;

/// <summary>A repository opened for the cmdlets: the engine object, how messages name it, and its name in config.yaml.</summary>
/// <param name="Repository">The open repository.</param>
/// <param name="Name">Its name in config.yaml, or null when it was given by path.</param>
public sealed record OpenedRepository(BackupRepository Repository, string? Name)
{
    /// <summary>How plans and messages name it: <c>'nas' (/mnt/nas/ceso)</c> or the path.</summary>
    public string Label => Name is null ? Repository.Backend.Location : $"'{Name}' ({Repository.Backend.Location})";

    /// <summary>The repository as the cmdlets show it.</summary>
    public async Task<CesoBackupRepository> DescribeAsync(string? description, CancellationToken ct = default)
    {
        var backups = await Repository.ListSnapshotsAsync(ct).ConfigureAwait(false);
        long stored = 0;
        foreach (var kind in new[] { FileKind.Pack, FileKind.Index, FileKind.Snapshot })
        {
            await foreach (var f in Repository.Backend.ListAsync(kind, ct).ConfigureAwait(false))
            {
                stored += f.Size;
            }
        }

        return new CesoBackupRepository
        {
            Name = Name,
            Location = Repository.Backend.Location,
            Id = Repository.Id,
            Encrypted = Repository.Encrypted,
            BlockSize = Repository.BlockSize,
            Backups = backups.Count,
            StoredBytes = stored,
            Description = description,
        };
    }
}

/// <summary>
/// Backup and restore as front ends call them: repositories by name (config.yaml) or path, the plans of
/// Backup-CesoVm and Restore-CesoVm (run by the <see cref="PlanRunner"/> like every other change), and the reads
/// (list, check). Passwords come in as arguments: where they come from (a SecureString, CESO_REPOSITORY_PASSWORD) is
/// the front end's business, and they are never logged.
/// </summary>
public static class BackupOperations
{
    /// <summary>A name registered in config.yaml, else a directory path: the repository's name (or null) and location.</summary>
    public static (string? Name, string Location) Resolve(CesoHome home, string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrPath);
        var config = CesoConfig.Load(home);
        if (config.Repositories.TryGetValue(nameOrPath, out var entry))
        {
            return (config.Repositories.Keys.First(k => k.Equals(nameOrPath, StringComparison.OrdinalIgnoreCase)), entry.Location);
        }

        if (nameOrPath.Contains('/', StringComparison.Ordinal) || nameOrPath.Contains('\\', StringComparison.Ordinal) || Path.IsPathRooted(nameOrPath))
        {
            if (nameOrPath.Contains("://", StringComparison.Ordinal))
            {
                throw new CesoException("RepositoryUrlNotSupported", CesoErrorKind.NotSupported,
                    $"'{nameOrPath}' is a URL; this version of Ceso keeps repositories in directories (a local path or an NFS mount). Give a path.")
                { Target = nameOrPath };
            }

            return (null, Path.GetFullPath(nameOrPath));
        }

        var known = config.Repositories.Keys.ToList();
        throw new CesoException("RepositoryNotFound", CesoErrorKind.NotFound,
            $"No repository named '{nameOrPath}' is registered in {CesoConfig.PathOf(home)}{(known.Count == 0 ? " (none is)" : "; registered: " + string.Join(", ", known))}. Create one with New-CesoBackupRepository, or give a path.")
        { Target = nameOrPath };
    }

    /// <summary>The description config.yaml gives a repository name, or null.</summary>
    public static string? DescriptionOf(CesoHome home, string? name) =>
        name is not null && CesoConfig.Load(home).Repositories.TryGetValue(name, out var e) ? e.Description : null;

    /// <summary>
    /// Creates a repository in <paramref name="path"/> (an empty or missing directory) and, with a
    /// <paramref name="name"/>, registers it in config.yaml. A name already taken is refused before anything is created.
    /// </summary>
    public static async Task<OpenedRepository> CreateRepositoryAsync(CesoHome home, string? name, string path, string? password, int? blockSize, string? description, CancellationToken ct = default)
    {
        var full = Path.GetFullPath(path);
        if (name is not null && CesoConfig.Load(home).Repositories.ContainsKey(name))
        {
            throw new CesoException("RepositoryNameExists", CesoErrorKind.InvalidArgument,
                $"A repository named '{name}' is already registered in {CesoConfig.PathOf(home)}. Choose another name.") { Target = name };
        }

        if (Directory.Exists(full) && Directory.EnumerateFileSystemEntries(full).Any())
        {
            throw new CesoException("RepositoryPathNotEmpty", CesoErrorKind.InvalidArgument,
                File.Exists(Path.Combine(full, "config"))
                    ? $"'{full}' already holds a repository. Register it by name in config.yaml, or use its path with -Repository."
                    : $"'{full}' is not empty; a repository is created in an empty or new directory. Choose another path.")
            { Target = full };
        }

        var created = !Directory.Exists(full);
        try
        {
            var options = blockSize is { } bs ? new RepositoryOptions { BlockSize = bs } : new RepositoryOptions();
            var repo = await BackupRepository.InitAsync(new DirectoryBackend(full), password, options, ct).ConfigureAwait(false);
            if (name is not null)
            {
                RepositoryRegistry.Register(home, name, full, description);
            }

            return new OpenedRepository(repo, name);
        }
        catch
        {
            // Nothing half-made stays behind: the directory goes when Ceso made it, else it is emptied again.
            TryRemove(full, created);
            throw;
        }
    }

    /// <summary>Opens a repository by name or path; <c>RepositoryPasswordWrong</c> leaves it untouched.</summary>
    public static async Task<OpenedRepository> OpenAsync(CesoHome home, string nameOrPath, string? password, CancellationToken ct = default)
    {
        var (name, location) = Resolve(home, nameOrPath);
        if (!File.Exists(Path.Combine(location, "config")))
        {
            throw new CesoException("RepositoryNotFound", CesoErrorKind.NotFound,
                $"There is no Ceso repository at '{location}'{(name is null ? "" : $" (repository '{name}' in {CesoConfig.PathOf(home)})")}. Check that the share is mounted, or create one with New-CesoBackupRepository.")
            { Target = nameOrPath };
        }

        return new OpenedRepository(await BackupRepository.OpenAsync(new DirectoryBackend(location), password, ct).ConfigureAwait(false), name);
    }

    /// <summary>The backups in a repository as the cmdlets show them, newest last, filtered.</summary>
    public static async Task<IReadOnlyList<CesoBackup>> ListAsync(OpenedRepository repo, Func<BackupSnapshot, bool>? filter = null, CancellationToken ct = default)
    {
        var all = await repo.Repository.ListSnapshotsAsync(ct).ConfigureAwait(false);
        var list = new List<CesoBackup>();
        foreach (var s in all.Where(s => filter?.Invoke(s) ?? true).OrderBy(s => s.Time))
        {
            list.Add(await DescribeAsync(repo, s.Id, ct).ConfigureAwait(false));
        }

        return list;
    }

    /// <summary>One backup (by id or unique prefix) as the cmdlets show it.</summary>
    public static async Task<CesoBackup> DescribeAsync(OpenedRepository repo, string id, CancellationToken ct = default, IReadOnlyDictionary<string, string>? readPaths = null)
    {
        var m = await repo.Repository.LoadSnapshotAsync(id, ct).ConfigureAwait(false);
        return new CesoBackup
        {
            Id = m.Id,
            Time = m.Time,
            Vm = m.Header.VmName,
            VmId = m.Header.VmId,
            Host = m.Header.Host,
            Mode = m.Header.Mode.ToString(),
            Tags = m.Header.Tags,
            Disks = m.Disks.Select(d => new CesoBackupDisk
            {
                Path = d.Name,
                CapacityBytes = d.Capacity,
                Blocks = d.Blocks.Count,
                ReadPath = readPaths is not null && readPaths.TryGetValue(d.Name, out var p) ? p : null,
            }).ToList(),
            SizeBytes = m.Disks.Sum(d => d.Capacity),
            DataBytes = m.Disks.Sum(d => d.Blocks.Sum(b => (long)d.LengthOf(b.Index))),
            AddedBytes = m.Statistics.NewBytesStored,
            Repository = repo.Name ?? repo.Repository.Backend.Location,
        };
    }

    /// <summary>Plans Backup-CesoVm of one VM into <paramref name="repo"/> (reads only).</summary>
    public static Task<(Plan Plan, BackupRun Run)> PlanBackupAsync(CesoSession session, CesoHome home, OpenedRepository repo, BackupVmRequest request, CancellationToken ct = default)
    {
        var context = new OperationContext(session, home);
        return new BackupVm(context, new VmGuards(context)).PlanAsync(request, repo.Repository, repo.Label, ct);
    }

    /// <summary>Plans Restore-CesoVm -AsNew of a backup in <paramref name="repo"/> (reads only).</summary>
    public static Task<(Plan Plan, VmHandle Vm)> PlanRestoreAsync(CesoSession session, CesoHome home, OpenedRepository repo, RestoreVmRequest request, CancellationToken ct = default)
    {
        var context = new OperationContext(session, home);
        return new RestoreVm(context, new VmGuards(context)).PlanAsync(request, repo.Repository, repo.Label, ct);
    }

    /// <summary>The plan of Restore-CesoVm -InPlace (reads only); the VM keeps its identity and must be powered off.</summary>
    public static Task<(Plan Plan, VmHandle Vm)> PlanRestoreInPlaceAsync(CesoSession session, CesoHome home, OpenedRepository repo, RestoreInPlaceRequest request, CancellationToken ct = default)
    {
        var context = new OperationContext(session, home);
        return new RestoreVmInPlace(context, new VmGuards(context)).PlanAsync(request, repo.Repository, repo.Label, ct);
    }

    /// <summary>
    /// Test-CesoBackup: the repository's structure (config, keys, index, manifests, packs) and, with
    /// <paramref name="readData"/> or a <paramref name="subset"/> (<c>n/m</c> or a percentage), every blob decrypted
    /// and hashed. Each problem names the backups and disks it affects.
    /// </summary>
    public static async Task<CesoBackupCheck> CheckAsync(OpenedRepository repo, bool readData, string? subset, IProgress<CheckProgress>? progress = null, CancellationToken ct = default)
    {
        var report = await repo.Repository.CheckAsync(new CheckOptions { ReadData = readData || subset is not null, ReadDataSubset = subset }, progress, ct).ConfigureAwait(false);
        return new CesoBackupCheck
        {
            Repository = repo.Name ?? repo.Repository.Backend.Location,
            Ok = report.Ok,
            ReadData = readData || subset is not null,
            Backups = report.Snapshots,
            Packs = report.Packs,
            BlobsRead = report.BlobsRead,
            Problems = report.Problems.Select(p => $"{p.Severity}: {p.Message}"
                + (p.Snapshots.Count == 0 ? "" : $" (backups: {string.Join(", ", p.Snapshots.Select(x => x.Length > 8 ? x[..8] : x))})")
                + (p.Disks.Count == 0 ? "" : $" (disks: {string.Join(", ", p.Disks)})")).ToList(),
        };
    }

    private static void TryRemove(string dir, bool created)
    {
        try
        {
            if (created)
            {
                Directory.Delete(dir, true);
            }
            else
            {
                foreach (var e in Directory.EnumerateFileSystemEntries(dir))
                {
                    if (Directory.Exists(e))
                    {
                        Directory.Delete(e, true);
                    }
                    else
                    {
                        File.Delete(e);
                    }
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
