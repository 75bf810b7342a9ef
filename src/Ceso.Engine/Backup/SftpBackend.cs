using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Ceso.Engine.Ssh;
using Ceso.Engine.Ssh.Sftp;

namespace Ceso.Engine.Backup;

/// <summary>
/// A repository on an SFTP server (a backup host, or an ESXi datastore as <c>/vmfs/volumes/&lt;ds&gt;/…</c>) in the
/// layout of <see cref="DirectoryBackend"/>, reached through the system OpenSSH client with the same trust rules as
/// Ceso's host connections (strict host keys against Ceso's known_hosts, keys, certificates, agent, ssh_config). A save
/// writes <c>.tmp-*</c> (never listed) in the target folder, fsyncs it where the server offers fsync@openssh.com, and
/// renames it into place with SSH_FXP_RENAME, which never replaces a file; a name that exists is accepted when its size
/// is the same (names are content hashes) and refused otherwise. A dropped or timed-out connection is
/// <c>RepositoryUnavailable</c> (wrap in <see cref="RetryingBackend"/>); the next call reconnects.
/// </summary>
public sealed partial class SftpBackend : IBackupBackend, IAsyncDisposable, IDisposable
{
    private readonly SftpClient _client;

    /// <summary>A backend for the repository at <paramref name="remotePath"/> (absolute, or relative to the login's
    /// home) on <paramref name="target"/>; nothing connects until the first call, and folders are made by the first save.</summary>
    public SftpBackend(SshTarget target, string remotePath)
        : this(target, remotePath, new SftpClient(target))
    {
    }

    /// <summary>A backend over a client with other request sizes (the throughput comparison in the tests).</summary>
    internal SftpBackend(SshTarget target, string remotePath, SftpClient client)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (string.IsNullOrWhiteSpace(remotePath) || remotePath.Contains('\n', StringComparison.Ordinal))
        {
            throw BackupErrors.Invalid($"'{remotePath}' is not a repository path on an SFTP server.");
        }

        Target = target;
        RemotePath = remotePath.Length > 1 ? remotePath.TrimEnd('/') : remotePath;
        _client = client;
        var host = target.Host.Contains(':', StringComparison.Ordinal) ? $"[{target.Host}]" : target.Host;
        Location = $"sftp://{target.User}@{host}:{target.Port}{(RemotePath.StartsWith('/') ? "" : "/~/")}{RemotePath}";
    }

    /// <summary>The SSH server and login.</summary>
    public SshTarget Target { get; }

    /// <summary>The repository folder on the server.</summary>
    public string RemotePath { get; }

    /// <inheritdoc />
    public string Location { get; }

    /// <summary>The SFTP client (tests drop its connection and count reconnections).</summary>
    internal SftpClient Client => _client;

    /// <inheritdoc />
    public async Task SaveAsync(FileKind kind, string name, Stream data, CancellationToken ct = default)
    {
        RepositoryLayout.CheckName(name);
        var path = PathOf(kind, name);
        var folder = ParentOf(path)!;
        var temp = folder + "/.tmp-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        var size = data.CanSeek ? data.Length - data.Position : (long?)null;
        var tempExists = false;
        long written = 0;
        try
        {
            SftpFile file;
            try
            {
                file = await OpenNewAsync(temp, ct).ConfigureAwait(false);
            }
            catch (SftpStatusException e) when (e.Status == SftpStatus.NoSuchFile)
            {
                await MakeFoldersAsync(folder, ct).ConfigureAwait(false);
                file = await OpenNewAsync(temp, ct).ConfigureAwait(false);
            }

            tempExists = true;
            await using (file.ConfigureAwait(false))
            {
                written = await file.WriteAllAsync(data, ct).ConfigureAwait(false);
                await file.FsyncAsync(ct).ConfigureAwait(false);
                await file.CloseAsync(ct).ConfigureAwait(false);
            }

            SftpStatusException? refused = null;
            try
            {
                await _client.RenameAsync(temp, path, ct).ConfigureAwait(false);
                tempExists = false;
                return;
            }
            catch (SftpStatusException e) when (e.Status == SftpStatus.Failure)
            {
                refused = e; // OpenSSH says only "Failure" when the name exists: look
            }

            var theirs = await _client.StatAsync(path, ct).ConfigureAwait(false) ?? throw refused;
            await TryRemoveAsync(temp).ConfigureAwait(false);
            tempExists = false;
            if (theirs.Size != written)
            {
                throw BackupErrors.State("RepositoryFileExists",
                    $"The {kind} file '{name}' already exists in '{Location}' with a different size ({theirs.Size} bytes, not {written}); repository files are written once.");
            }
        }
        catch (Exception ex)
        {
            var mapped = await SaveFailureAsync(ex, folder, Math.Max(size ?? written, 1)).ConfigureAwait(false);
            if (tempExists)
            {
                await TryRemoveAsync(temp).ConfigureAwait(false);
            }

            if (!ReferenceEquals(mapped, ex))
            {
                throw mapped;
            }

            throw;
        }
    }

    /// <inheritdoc />
    public async Task<Stream> OpenAsync(FileKind kind, string name, long offset = 0, long? length = null, CancellationToken ct = default)
    {
        RepositoryLayout.CheckName(name);
        var path = PathOf(kind, name);
        try
        {
            var file = await _client.OpenAsync(path, SftpOpenFlags.Read, ct).ConfigureAwait(false);
            try
            {
                var size = (await file.StatAsync(ct).ConfigureAwait(false)).Size ?? throw BackupErrors.State("RepositoryFileSizeUnknown",
                    $"The SFTP server of '{Location}' did not say how long '{path}' is.");
                if (offset < 0 || offset > size || (length is { } l && (l < 0 || offset + l > size)))
                {
                    throw BackupErrors.Corrupt($"{kind} file '{name}'", $"is {size} bytes long, too short for a read of {length} bytes at {offset}");
                }

                if (length is null)
                {
                    return file.OpenRead(offset, size, ownsFile: true, Translate);
                }

                var buffer = new byte[length.Value];
                var s = file.OpenRead(offset, offset + length.Value, ownsFile: false);
                await using (s.ConfigureAwait(false))
                {
                    await s.ReadExactlyAsync(buffer, ct).ConfigureAwait(false);
                }

                await file.DisposeAsync().ConfigureAwait(false);
                return new MemoryStream(buffer, writable: false);
            }
            catch
            {
                await file.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        catch (SftpStatusException e) when (e.Status == SftpStatus.NoSuchFile)
        {
            throw BackupErrors.FileMissing(kind, name, Location);
        }
        catch (Exception e) when (Translate(e) is var t && !ReferenceEquals(t, e))
        {
            throw t;
        }
    }

    /// <inheritdoc />
    public async Task<long?> StatAsync(FileKind kind, string name, CancellationToken ct = default)
    {
        RepositoryLayout.CheckName(name);
        try
        {
            return (await _client.StatAsync(PathOf(kind, name), ct).ConfigureAwait(false)) is { IsRegularFile: true } a ? a.Size : null;
        }
        catch (Exception e) when (Translate(e) is var t && !ReferenceEquals(t, e))
        {
            throw t;
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<BackendFile> ListAsync(FileKind kind, [EnumeratorCancellation] CancellationToken ct = default)
    {
        if (kind == FileKind.Config)
        {
            if (await StatAsync(FileKind.Config, "config", ct).ConfigureAwait(false) is { } size)
            {
                yield return new BackendFile("config", size);
            }

            yield break;
        }

        var folder = Join(RemotePath, RepositoryLayout.FolderOf(kind));
        await foreach (var e in EntriesAsync(folder, ct).ConfigureAwait(false))
        {
            if (e.Name.StartsWith('.'))
            {
                continue;
            }

            if (kind != FileKind.Pack)
            {
                if (e.Attributes.IsRegularFile)
                {
                    yield return new BackendFile(e.Name, e.Attributes.Size ?? 0);
                }

                continue;
            }

            if (e.Attributes.IsDirectory)
            {
                await foreach (var f in EntriesAsync(Join(folder, e.Name), ct).ConfigureAwait(false))
                {
                    if (!f.Name.StartsWith('.') && f.Attributes.IsRegularFile)
                    {
                        yield return new BackendFile(f.Name, f.Attributes.Size ?? 0);
                    }
                }
            }
        }
    }

    /// <inheritdoc />
    public async Task RemoveAsync(FileKind kind, string name, CancellationToken ct = default)
    {
        RepositoryLayout.CheckName(name);
        try
        {
            await _client.RemoveAsync(PathOf(kind, name), ct).ConfigureAwait(false);
        }
        catch (SftpStatusException e) when (e.Status == SftpStatus.NoSuchFile)
        {
            // not there (or its folder is not): nothing to remove
        }
        catch (Exception e) when (Translate(e) is var t && !ReferenceEquals(t, e))
        {
            throw t;
        }
    }

    /// <summary>Closes the SSH connection.</summary>
    public ValueTask DisposeAsync() => _client.DisposeAsync();

    /// <summary>Closes the SSH connection (blocking for at most a few seconds).</summary>
    public void Dispose() => _client.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>The file's path on the server in the folder layout.</summary>
    internal string PathOf(FileKind kind, string name) => kind switch
    {
        FileKind.Config => Join(RemotePath, "config"),
        FileKind.Pack => Join(Join(RemotePath, "data"), name[..2]) + "/" + name,
        _ => Join(Join(RemotePath, RepositoryLayout.FolderOf(kind)), name),
    };

    private Task<SftpFile> OpenNewAsync(string path, CancellationToken ct) =>
        _client.OpenAsync(path, SftpOpenFlags.Write | SftpOpenFlags.Create | SftpOpenFlags.Exclusive, ct);

    /// <summary>mkdir -p: the folder and any missing parents; a folder made meanwhile by another save is fine.</summary>
    private async Task MakeFoldersAsync(string folder, CancellationToken ct)
    {
        if (await TryMakeFolderAsync(folder, ct).ConfigureAwait(false))
        {
            return;
        }

        if (ParentOf(folder) is { } parent)
        {
            await MakeFoldersAsync(parent, ct).ConfigureAwait(false);
            if (await TryMakeFolderAsync(folder, ct).ConfigureAwait(false))
            {
                return;
            }
        }

        await _client.MakeDirectoryAsync(folder, ct).ConfigureAwait(false); // raises why the folder cannot be made
    }

    /// <summary>True when the folder exists now; false when its parent is missing.</summary>
    private async Task<bool> TryMakeFolderAsync(string folder, CancellationToken ct)
    {
        try
        {
            await _client.MakeDirectoryAsync(folder, ct).ConfigureAwait(false);
            return true;
        }
        catch (SftpStatusException e) when (e.Status == SftpStatus.NoSuchFile)
        {
            return false;
        }
        catch (SftpStatusException e) when (e.Status == SftpStatus.Failure)
        {
            if (await _client.StatAsync(folder, ct).ConfigureAwait(false) is { IsDirectory: true })
            {
                return true; // it exists (OpenSSH reports EEXIST as a bare failure)
            }

            throw;
        }
    }

    /// <summary>Best effort, bounded: a temporary file left behind is never listed, and prune-like tools may remove it.</summary>
    private async Task TryRemoveAsync(string path)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _client.RemoveAsync(path, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is CesoException or OperationCanceledException)
        {
        }
    }

    /// <summary>A folder's entries; a folder that does not exist has none.</summary>
    private async IAsyncEnumerable<SftpDirectoryEntry> EntriesAsync(string folder, [EnumeratorCancellation] CancellationToken ct)
    {
        var e = _client.ListAsync(folder, ct).GetAsyncEnumerator(ct);
        await using (e.ConfigureAwait(false))
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await e.MoveNextAsync().ConfigureAwait(false);
                }
                catch (SftpStatusException x) when (x is { Status: SftpStatus.NoSuchFile, Operation: "opendir" })
                {
                    yield break;
                }
                catch (Exception x) when (Translate(x) is var t && !ReferenceEquals(t, x))
                {
                    throw t;
                }

                if (!more)
                {
                    yield break;
                }

                yield return e.Current;
            }
        }
    }

    private static string Join(string folder, string name) => folder.EndsWith('/') ? folder + name : folder + "/" + name;

    /// <summary>The folder holding <paramref name="path"/>; null for a name with no folder part or for "/".</summary>
    private static string? ParentOf(string path)
    {
        var i = path.LastIndexOf('/');
        return i switch
        {
            < 0 => null,
            0 => path.Length > 1 ? "/" : null,
            _ => path[..i],
        };
    }
}
