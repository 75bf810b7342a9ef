namespace Ceso.Engine.Backup;

/// <summary>The kinds of file a repository holds; each kind is its own namespace of names in a backend.</summary>
public enum FileKind
{
    /// <summary>The one repository configuration file, named <c>config</c>.</summary>
    Config,
    /// <summary>A key file (under <c>keys/</c>): the master key wrapped by one password.</summary>
    Key,
    /// <summary>A pack file (under <c>data/xx/</c>): encrypted blobs and their encrypted header.</summary>
    Pack,
    /// <summary>An index file (under <c>index/</c>): which pack holds which blob.</summary>
    Index,
    /// <summary>A snapshot manifest (under <c>snapshots/</c>).</summary>
    Snapshot,
    /// <summary>A lock file (under <c>locks/</c>).</summary>
    Lock,
}

/// <summary>One file a backend lists: its name (no folder) and its size in bytes.</summary>
public readonly record struct BackendFile(string Name, long Size);

/// <summary>
/// Where a repository's files live (a directory, later SFTP or S3), in restic's shape: files are written once under a
/// name and never modified; a save is atomic (a file is visible under its name complete or not at all). Everything
/// above this interface (crypto, packs, index, locks) is the same for every backend, so retry, fault injection and
/// dry-run are decorators of this interface.
/// </summary>
public interface IBackupBackend
{
    /// <summary>Where the repository is, for messages (a path or URL, no secrets).</summary>
    string Location { get; }

    /// <summary>
    /// Stores <paramref name="data"/> (read to its end) as <paramref name="name"/>. Atomic and write-once: a file
    /// already there with the same name is left as it is when it has the same size (names are content hashes) and
    /// refused otherwise. A full target raises <see cref="CesoException"/> <c>RepositoryFull</c> and leaves nothing.
    /// </summary>
    Task SaveAsync(FileKind kind, string name, Stream data, CancellationToken ct = default);

    /// <summary>
    /// A stream over the file from <paramref name="offset"/>, <paramref name="length"/> bytes long (to the end when
    /// null). A missing file raises <see cref="CesoException"/> <c>RepositoryFileMissing</c>.
    /// </summary>
    Task<Stream> OpenAsync(FileKind kind, string name, long offset = 0, long? length = null, CancellationToken ct = default);

    /// <summary>The file's size, or null when there is no such file.</summary>
    Task<long?> StatAsync(FileKind kind, string name, CancellationToken ct = default);

    /// <summary>Every file of a kind (in no particular order); temporary files of unfinished saves are not listed.</summary>
    IAsyncEnumerable<BackendFile> ListAsync(FileKind kind, CancellationToken ct = default);

    /// <summary>Removes a file; removing a file that is not there is not an error.</summary>
    Task RemoveAsync(FileKind kind, string name, CancellationToken ct = default);
}
