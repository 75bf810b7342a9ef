using System.Security.Cryptography;

namespace Ceso.Engine.Backup;

/// <summary>
/// A Ceso backup repository: write-once, content-addressed, encrypted (AES-256-GCM) or not, zstd-compressed fixed
/// blocks in packs, an index, snapshot manifests and locks (docs/repository-format.md). Open one with
/// <see cref="OpenAsync"/> or create one with <see cref="InitAsync"/>; the object is safe to share between concurrent
/// backups and reads. It holds no lock itself: each backup and prune takes one for its duration.
/// </summary>
public sealed partial class BackupRepository
{
    private readonly RepositoryKeys _keys;
    private readonly object _indexSync = new();
    private readonly Dictionary<string, SnapshotManifest> _manifests = new(StringComparer.Ordinal);
    private MemoryIndex _index = MemoryIndex.Empty;
    private string? _keyName;

    private BackupRepository(IBackupBackend backend, RepositoryConfig config, RepositoryKeys keys, string? keyName)
    {
        Backend = backend;
        Config = config;
        _keys = keys;
        _keyName = keyName;
    }

    /// <summary>The backend the repository lives in.</summary>
    public IBackupBackend Backend { get; }

    /// <summary>The repository's configuration.</summary>
    public RepositoryConfig Config { get; }

    /// <summary>The repository id (64 hex digits).</summary>
    public string Id => Config.Id;

    /// <summary>The fixed block size of every disk in this repository.</summary>
    public int BlockSize => Config.BlockSize;

    /// <summary>True when the repository is encrypted.</summary>
    public bool Encrypted => Config.Encrypted;

    /// <summary>Problems met while loading index files at open (each names the file); <see cref="CheckAsync"/> reports them.</summary>
    public IReadOnlyList<string> LoadProblems { get; private set; } = [];

    /// <summary>The size at which a backup closes a pack (16 MiB; smaller in tests).</summary>
    internal int PackSize { get; set; } = 16 << 20;

    /// <summary>The clock of lock times and snapshot times.</summary>
    internal TimeProvider Clock { get; set; } = TimeProvider.System;

    internal RepositoryKeys Keys => _keys;

    internal MemoryIndex Index => Volatile.Read(ref _index);

    /// <summary>
    /// Creates a repository in an empty backend. A null <paramref name="password"/> makes an unencrypted repository
    /// (the config says so; data is still verified by its ids and checksums). The key is written before the config, so a
    /// backend without a config is never a half-made repository that opens.
    /// </summary>
    public static async Task<BackupRepository> InitAsync(IBackupBackend backend, string? password, RepositoryOptions? options = null, CancellationToken ct = default)
    {
        options ??= new RepositoryOptions();
        var bs = options.BlockSize;
        if (bs < 4096 || bs > (16 << 20) || (bs & (bs - 1)) != 0)
        {
            throw BackupErrors.Invalid($"A block size is a power of two from 4 KiB to 16 MiB, not {bs}.");
        }

        if (await backend.StatAsync(FileKind.Config, "config", ct).ConfigureAwait(false) is not null)
        {
            throw BackupErrors.State("RepositoryExists", $"'{backend.Location}' already holds a backup repository; open it instead.");
        }

        var keys = RepositoryKeys.Create(encrypted: password is not null);
        var id = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();
        var now = DateTimeOffset.UtcNow;
        string? keyName = null;
        if (password is not null)
        {
            keyName = await SaveKeyAsync(backend, keys, id, password, options.KdfIterations, now, ct).ConfigureAwait(false);
        }

        var config = new RepositoryConfig
        {
            Id = id,
            Created = now,
            BlockSize = bs,
            Encrypted = keys.Encrypted,
            IdKey = keys.Encrypted ? null : Convert.ToBase64String(keys.IdKey),
        };
        await backend.SaveAsync(FileKind.Config, "config", new MemoryStream(config.Encode(keys)), ct).ConfigureAwait(false);
        return new BackupRepository(backend, config, keys, keyName) { PackSize = options.PackSize };
    }

    /// <summary>
    /// Opens a repository: unlocks a key with <paramref name="password"/> (ignored for an unencrypted repository), reads
    /// the config and merges every index file. A wrong password raises <c>RepositoryPasswordWrong</c> and changes nothing.
    /// </summary>
    public static async Task<BackupRepository> OpenAsync(IBackupBackend backend, string? password, CancellationToken ct = default)
    {
        if (await backend.StatAsync(FileKind.Config, "config", ct).ConfigureAwait(false) is null)
        {
            throw new CesoException("RepositoryNotFound", CesoErrorKind.NotFound,
                $"There is no backup repository at '{backend.Location}' (no config file). Check the path, or create one first.")
            { Target = backend.Location };
        }

        var configBytes = await SealedFile.LoadAsync(backend, FileKind.Config, "config", ct).ConfigureAwait(false);
        RepositoryKeys keys;
        string? keyName = null;
        if (RepositoryConfig.ReadEncrypted(configBytes, backend.Location))
        {
            if (password is null) throw BackupErrors.PasswordWrong(backend.Location);
            (keys, keyName) = await UnlockAsync(backend, password, ct).ConfigureAwait(false);
        }
        else
        {
            var plain = RepositoryConfig.Decode(configBytes, null, backend.Location);
            keys = RepositoryKeys.FromBytes(Convert.FromBase64String(plain.IdKey!));
        }

        var config = RepositoryConfig.Decode(configBytes, keys, backend.Location);
        var repo = new BackupRepository(backend, config, keys, keyName);
        await repo.ReloadIndexAsync(ct).ConfigureAwait(false);
        return repo;
    }

    private static async Task<(RepositoryKeys, string)> UnlockAsync(IBackupBackend backend, string password, CancellationToken ct)
    {
        CesoException? damage = null;
        await foreach (var file in backend.ListAsync(FileKind.Key, ct).ConfigureAwait(false))
        {
            try
            {
                var key = await ReadKeyFileAsync(backend, file.Name, ct).ConfigureAwait(false);
                if (key.Unlock(password) is { } keys) return (keys, file.Name);
            }
            catch (CesoException ex) when (ex.ErrorId == "RepositoryDataCorrupt")
            {
                damage ??= ex;
            }
        }

        // A damaged key file might have been the one this password opens: say so rather than "wrong password".
        throw damage ?? BackupErrors.PasswordWrong(backend.Location);
    }

    internal static async Task<KeyFile> ReadKeyFileAsync(IBackupBackend backend, string name, CancellationToken ct)
    {
        var bytes = await SealedFile.LoadAsync(backend, FileKind.Key, name, ct).ConfigureAwait(false);
        if (SealedFile.NameOf(bytes) != name) throw BackupErrors.Corrupt($"key file '{name}'", "does not match its name (its SHA-256 differs)");
        return KeyFile.Parse(bytes, name);
    }

    private static async Task<string> SaveKeyAsync(IBackupBackend backend, RepositoryKeys keys, string id, string password, int iterations, DateTimeOffset now, CancellationToken ct)
    {
        var bytes = KeyFile.Create(keys, id, password, iterations, now);
        var name = SealedFile.NameOf(bytes);
        await backend.SaveAsync(FileKind.Key, name, new MemoryStream(bytes), ct).ConfigureAwait(false);
        return name;
    }

    /// <summary>Adds a key that opens the repository with <paramref name="password"/>; returns its name. Data is not rewritten.</summary>
    public async Task<string> AddKeyAsync(string password, int iterations = KeyFile.DefaultIterations, CancellationToken ct = default)
    {
        if (!Encrypted) throw BackupErrors.State("RepositoryNotEncrypted", $"The repository '{Backend.Location}' is not encrypted; it has no keys.");
        return await SaveKeyAsync(Backend, _keys, Id, password, iterations, Clock.GetUtcNow(), ct).ConfigureAwait(false);
    }

    /// <summary>The names of the key files.</summary>
    public async Task<IReadOnlyList<string>> ListKeysAsync(CancellationToken ct = default)
    {
        var names = new List<string>();
        await foreach (var f in Backend.ListAsync(FileKind.Key, ct).ConfigureAwait(false)) names.Add(f.Name);
        return names;
    }

    /// <summary>Removes a key file; the last key cannot be removed (the repository would be lost).</summary>
    public async Task RemoveKeyAsync(string keyName, CancellationToken ct = default)
    {
        var keys = await ListKeysAsync(ct).ConfigureAwait(false);
        if (!keys.Contains(keyName)) throw BackupErrors.NotFound($"key '{keyName}'", Backend.Location);
        if (keys.Count == 1) throw BackupErrors.State("RepositoryLastKey", $"'{keyName}' is the only key of '{Backend.Location}'; add another before removing it.");
        await Backend.RemoveAsync(FileKind.Key, keyName, ct).ConfigureAwait(false);
        if (keyName == _keyName) _keyName = null;
    }

    /// <summary>Adds a key for <paramref name="newPassword"/>, then removes the key this repository was opened with. Returns the new key's name.</summary>
    public async Task<string> ChangePasswordAsync(string newPassword, int iterations = KeyFile.DefaultIterations, CancellationToken ct = default)
    {
        var added = await AddKeyAsync(newPassword, iterations, ct).ConfigureAwait(false);
        if (_keyName is not null && _keyName != added) await RemoveKeyAsync(_keyName, ct).ConfigureAwait(false);
        _keyName = added;
        return added;
    }

    /// <summary>Re-reads every index file (superseded ones left out); damaged files go to <see cref="LoadProblems"/>.</summary>
    internal async Task ReloadIndexAsync(CancellationToken ct)
    {
        var (files, problems) = await ReadIndexFilesAsync(ct).ConfigureAwait(false);
        var superseded = files.SelectMany(f => f.Content.Supersedes).ToHashSet(StringComparer.Ordinal);
        var index = MemoryIndex.Build(files.Where(f => !superseded.Contains(f.Name)).Select(f => (f.Name, f.Content)));
        lock (_indexSync)
        {
            _index = index;
            LoadProblems = problems;
        }
    }

    internal async Task<(List<(string Name, IndexFile Content)> Files, List<string> Problems)> ReadIndexFilesAsync(CancellationToken ct)
    {
        var names = new List<string>();
        await foreach (var f in Backend.ListAsync(FileKind.Index, ct).ConfigureAwait(false)) names.Add(f.Name);
        var files = new (string, IndexFile)?[names.Count];
        var problems = new string?[names.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, names.Count), new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = 4 }, async (i, token) =>
        {
            try
            {
                var bytes = await SealedFile.LoadAsync(Backend, FileKind.Index, names[i], token).ConfigureAwait(false);
                files[i] = (names[i], IndexFile.Decode(SealedFile.Read(_keys, IndexFile.Purpose, bytes, FileKind.Index, names[i]), names[i]));
            }
            catch (CesoException ex)
            {
                problems[i] = ex.Message;
            }
        }).ConfigureAwait(false);
        return ([.. files.Where(f => f is not null).Select(f => f!.Value)], [.. problems.Where(p => p is not null).Select(p => p!)]);
    }

    /// <summary>Adds a committed backup's packs to the in-memory index.</summary>
    internal void AddToIndex(IReadOnlyList<IndexedPack> packs, string indexFile)
    {
        lock (_indexSync)
        {
            _index = _index.Merge(packs, [indexFile]);
        }
    }

    /// <summary>Writes an index file and returns its name.</summary>
    internal async Task<string> SaveIndexAsync(IndexFile index, CancellationToken ct)
    {
        var (name, bytes) = SealedFile.Write(_keys, IndexFile.Purpose, index.Encode());
        await Backend.SaveAsync(FileKind.Index, name, new MemoryStream(bytes), ct).ConfigureAwait(false);
        return name;
    }

    /// <summary>
    /// Checks the repository (structure; with <see cref="CheckOptions.ReadData"/> every blob too) and reports each
    /// problem with the snapshots and disks it affects. Takes a shared lock. Reports, never throws, for damage it finds.
    /// </summary>
    public async Task<CheckReport> CheckAsync(CheckOptions? options = null, IProgress<CheckProgress>? progress = null, CancellationToken ct = default)
    {
        await using var held = await LockAsync(exclusive: false, ct).ConfigureAwait(false);
        return await new RepositoryChecker(this, options ?? new CheckOptions(), progress).RunAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Takes a shared or exclusive lock on the repository.</summary>
    internal Task<RepositoryLock> LockAsync(bool exclusive, CancellationToken ct) => RepositoryLock.AcquireAsync(Backend, _keys, Clock, exclusive, ct);
}
