using Ceso.Engine.Backup;
using Ceso.Engine.Configuration;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;

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
    /// <summary>
    /// A name registered in config.yaml (with the options its entry gives), else a location typed out: a directory path,
    /// <c>sftp://…</c> or <c>s3://…</c> with <paramref name="options"/>. Returns the name (or null) and the location.
    /// </summary>
    public static (string? Name, RepositoryLocation Location) Resolve(CesoHome home, string nameOrLocation, RepositoryLocationOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(nameOrLocation);
        var config = CesoConfig.Load(home);
        if (config.Repositories.TryGetValue(nameOrLocation, out var entry))
        {
            var name = config.Repositories.Keys.First(k => k.Equals(nameOrLocation, StringComparison.OrdinalIgnoreCase));
            RepositoryLocationOptions registered;
            try
            {
                registered = entry.Options();
            }
            catch (UriFormatException e)
            {
                throw new CesoException("InvalidConfiguration", CesoErrorKind.InvalidArgument,
                    $"{CesoConfig.PathOf(home)}: repository '{name}' has an endpoint that is not a URL ({entry.Endpoint}). Fix the file.", e) { Target = name };
            }

            return (name, RepositoryLocation.Parse(entry.Location, registered));
        }

        if (RepositoryLocation.IsUrl(nameOrLocation) || nameOrLocation.Contains('/', StringComparison.Ordinal) ||
            nameOrLocation.Contains('\\', StringComparison.Ordinal) || Path.IsPathRooted(nameOrLocation))
        {
            return (null, RepositoryLocation.Parse(nameOrLocation, options));
        }

        var known = config.Repositories.Keys.ToList();
        throw new CesoException("RepositoryNotFound", CesoErrorKind.NotFound,
            $"No repository named '{nameOrLocation}' is registered in {CesoConfig.PathOf(home)}{(known.Count == 0 ? " (none is)" : "; registered: " + string.Join(", ", known))}. Create one with New-CesoBackupRepository, or give a path or URL.")
        { Target = nameOrLocation };
    }

    /// <summary>The description config.yaml gives a repository name, or null.</summary>
    public static string? DescriptionOf(CesoHome home, string? name) =>
        name is not null && CesoConfig.Load(home).Repositories.TryGetValue(name, out var e) ? e.Description : null;

    /// <summary>
    /// Creates a repository at <paramref name="location"/> (an empty or missing directory, an empty SFTP folder, an S3
    /// prefix that holds no repository) and, with a <paramref name="name"/>, registers it in config.yaml with the
    /// <paramref name="options"/> its URL cannot carry. A name already taken is refused before anything is created; a
    /// failure half-way removes what was written.
    /// </summary>
    public static async Task<OpenedRepository> CreateRepositoryAsync(CesoHome home, string? name, string location, string? password, int? blockSize, string? description,
        CancellationToken ct = default, RepositoryLocationOptions? options = null, RepositoryCredentials? credentials = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var where = RepositoryLocation.Parse(location, options);
        if (name is not null && CesoConfig.Load(home).Repositories.ContainsKey(name))
        {
            throw new CesoException("RepositoryNameExists", CesoErrorKind.InvalidArgument,
                $"A repository named '{name}' is already registered in {CesoConfig.PathOf(home)}. Choose another name.") { Target = name };
        }

        var repoOptions = blockSize is { } bs ? new RepositoryOptions { BlockSize = bs } : new RepositoryOptions();
        if (where.Kind == RepositoryKind.Directory)
        {
            var full = where.Path!;
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
                var repo = await BackupRepository.InitAsync(RepositoryBackends.Open(where, credentials), password, repoOptions, ct).ConfigureAwait(false);
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

        var backend = RepositoryBackends.Open(where, credentials, environment, create: true);
        try
        {
            if (backend is RetryingBackend { Inner: S3Backend s3 })
            {
                await s3.EnsureBucketAsync(ct).ConfigureAwait(false); // a new repository may name a bucket that is not there yet
            }

            foreach (var kind in new[] { FileKind.Config, FileKind.Key, FileKind.Snapshot, FileKind.Index, FileKind.Pack })
            {
                await foreach (var _ in backend.ListAsync(kind, ct).ConfigureAwait(false))
                {
                    throw new CesoException("RepositoryPathNotEmpty", CesoErrorKind.InvalidArgument,
                        kind == FileKind.Config
                            ? $"{where} already holds a repository. Register it by name in config.yaml, or use its URL with -Repository."
                            : $"{where} holds {kind.ToString().ToLowerInvariant()} files of a repository but no config; choose another folder or prefix.")
                    { Target = where.ToString() };
                }
            }

            try
            {
                var repo = await BackupRepository.InitAsync(backend, password, repoOptions, ct).ConfigureAwait(false);
                if (name is not null)
                {
                    RepositoryRegistry.Register(home, name, where.ToString(), description, options);
                }

                return new OpenedRepository(repo, name);
            }
            catch
            {
                await RemoveAllAsync(backend).ConfigureAwait(false);
                throw;
            }
        }
        catch
        {
            (backend as IDisposable)?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens a repository by name, path or URL; <c>RepositoryNotFound</c> when there is none there,
    /// <c>RepositoryPasswordWrong</c> leaves it untouched.
    /// </summary>
    public static async Task<OpenedRepository> OpenAsync(CesoHome home, string nameOrLocation, string? password, CancellationToken ct = default,
        RepositoryLocationOptions? options = null, RepositoryCredentials? credentials = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var (name, location) = Resolve(home, nameOrLocation, options);
        var backend = RepositoryBackends.Open(location, credentials, environment);
        try
        {
            if (await backend.StatAsync(FileKind.Config, "config", ct).ConfigureAwait(false) is null)
            {
                throw new CesoException("RepositoryNotFound", CesoErrorKind.NotFound,
                    $"There is no Ceso repository at '{location}'{(name is null ? "" : $" (repository '{name}' in {CesoConfig.PathOf(home)})")}. {(location.IsRemote ? "Check the URL and the credentials" : "Check that the share is mounted")}, or create one with New-CesoBackupRepository.")
                { Target = nameOrLocation };
            }

            return new OpenedRepository(await BackupRepository.OpenAsync(backend, password, ct).ConfigureAwait(false), name);
        }
        catch
        {
            (backend as IDisposable)?.Dispose();
            throw;
        }
    }

    // A repository whose creation failed: its config and key files (all it can have written) go again, best effort.
    private static async Task RemoveAllAsync(IBackupBackend backend)
    {
        foreach (var kind in new[] { FileKind.Key, FileKind.Config, FileKind.Lock })
        {
            try
            {
                var files = new List<BackendFile>();
                await foreach (var f in backend.ListAsync(kind).ConfigureAwait(false))
                {
                    files.Add(f);
                }

                foreach (var f in files)
                {
                    await backend.RemoveAsync(kind, f.Name).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is CesoException or IOException)
            {
                // best effort: the creation's own error is the one that goes up
            }
        }
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
    public static Task<(Plan Plan, VmRef Vm)> PlanRestoreAsync(CesoSession session, CesoHome home, OpenedRepository repo, RestoreVmRequest request, CancellationToken ct = default)
    {
        var context = new OperationContext(session, home);
        return new RestoreVm(context, new VmGuards(context)).PlanAsync(request, repo.Repository, repo.Label, ct);
    }

    /// <summary>The plan of Restore-CesoVm -InPlace (reads only); the VM keeps its identity and must be powered off.</summary>
    public static Task<(Plan Plan, VmRef Vm)> PlanRestoreInPlaceAsync(CesoSession session, CesoHome home, OpenedRepository repo, RestoreInPlaceRequest request, CancellationToken ct = default)
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
