using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Ceso.Engine.Backup;

/// <summary>
/// A repository in a local directory or an NFS mount: <c>config</c>, <c>keys/</c>, <c>data/xx/</c> (xx = the first two
/// hex digits of the pack name), <c>index/</c>, <c>snapshots/</c>, <c>locks/</c>. A save writes a temporary file
/// (<c>.tmp-*</c>, never listed) in the target folder, fsyncs it, renames it into place without overwriting and fsyncs
/// the folder, so a crash or a full disk leaves either the whole file or none under its name.
/// </summary>
public sealed class DirectoryBackend : IBackupBackend
{
    /// <summary>A backend over <paramref name="root"/>; the folder is created by the first save.</summary>
    public DirectoryBackend(string root) => Root = Path.GetFullPath(root);

    /// <summary>The repository folder.</summary>
    public string Root { get; }

    /// <inheritdoc />
    public string Location => Root;

    /// <inheritdoc />
    public async Task SaveAsync(FileKind kind, string name, Stream data, CancellationToken ct = default)
    {
        RepositoryLayout.CheckName(name);
        var path = PathOf(kind, name);
        var folder = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(folder, ".tmp-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant());
        try
        {
            Directory.CreateDirectory(folder);
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await data.CopyToAsync(file, 1 << 20, ct).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            try
            {
                File.Move(temp, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                var theirs = new FileInfo(path).Length;
                var ours = new FileInfo(temp).Length;
                File.Delete(temp);
                if (theirs != ours)
                {
                    throw BackupErrors.State("RepositoryFileExists",
                        $"The {kind} file '{name}' already exists in '{Root}' with a different size ({theirs} bytes, not {ours}); repository files are written once.");
                }

                return;
            }

            SyncDirectory(folder);
        }
        catch (Exception ex)
        {
            TryDelete(temp);
            if (ex is IOException io && IsDiskFull(io))
            {
                throw BackupErrors.Full(Root, io);
            }

            throw;
        }
    }

    /// <inheritdoc />
    public async Task<Stream> OpenAsync(FileKind kind, string name, long offset = 0, long? length = null, CancellationToken ct = default)
    {
        RepositoryLayout.CheckName(name);
        var path = PathOf(kind, name);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.Asynchronous);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw BackupErrors.FileMissing(kind, name, Root);
        }

        if (offset < 0 || offset > file.Length || (length is { } l && (l < 0 || offset + l > file.Length)))
        {
            var size = file.Length;
            await file.DisposeAsync().ConfigureAwait(false);
            throw BackupErrors.Corrupt($"{kind} file '{name}'", $"is {size} bytes long, too short for a read of {length} bytes at {offset}");
        }

        file.Position = offset;
        if (length is null)
        {
            return file;
        }

        await using (file.ConfigureAwait(false))
        {
            var buffer = new byte[length.Value];
            await file.ReadExactlyAsync(buffer, ct).ConfigureAwait(false);
            return new MemoryStream(buffer, 0, buffer.Length, writable: false, publiclyVisible: true); // readers may take the bytes without a copy
        }
    }

    /// <inheritdoc />
    public Task<long?> StatAsync(FileKind kind, string name, CancellationToken ct = default)
    {
        RepositoryLayout.CheckName(name);
        var info = new FileInfo(PathOf(kind, name));
        return Task.FromResult<long?>(info.Exists ? info.Length : null);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<BackendFile> ListAsync(FileKind kind, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await Task.Yield();
        if (kind == FileKind.Config)
        {
            var config = new FileInfo(Path.Combine(Root, "config"));
            if (config.Exists) yield return new BackendFile("config", config.Length);
            yield break;
        }

        var folder = Path.Combine(Root, RepositoryLayout.FolderOf(kind));
        if (!Directory.Exists(folder)) yield break;
        var options = new EnumerationOptions { RecurseSubdirectories = kind == FileKind.Pack, MaxRecursionDepth = 1, IgnoreInaccessible = false };
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles("*", options))
        {
            ct.ThrowIfCancellationRequested();
            if (!file.Name.StartsWith('.')) yield return new BackendFile(file.Name, file.Length);
        }
    }

    /// <inheritdoc />
    public Task RemoveAsync(FileKind kind, string name, CancellationToken ct = default)
    {
        RepositoryLayout.CheckName(name);
        var path = PathOf(kind, name);
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
            return Task.CompletedTask; // its folder is gone too: nothing to remove
        }

        SyncDirectory(Path.GetDirectoryName(path)!);
        return Task.CompletedTask;
    }

    /// <summary>The file's path in the folder layout.</summary>
    internal string PathOf(FileKind kind, string name) => kind switch
    {
        FileKind.Config => Path.Combine(Root, "config"),
        FileKind.Pack => Path.Combine(Root, "data", name[..2], name),
        _ => Path.Combine(Root, RepositoryLayout.FolderOf(kind), name),
    };

    /// <summary>ENOSPC/EDQUOT on Unix (the runtime puts errno in HResult), ERROR_DISK_FULL/ERROR_HANDLE_DISK_FULL on Windows.</summary>
    internal static bool IsDiskFull(IOException ex) =>
        ex.HResult is 28 or 122 || (ex.HResult & 0xFFFF) is 0x70 or 0x27 && OperatingSystem.IsWindows();

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Makes a rename or delete durable: fsync of the folder (POSIX); Windows has no directory fsync.</summary>
    private static void SyncDirectory(string folder)
    {
        if (OperatingSystem.IsWindows()) return;
        var fd = Native.open(folder, 0 /* O_RDONLY */);
        if (fd < 0) return;
        try
        {
            Native.fsync(fd);
        }
        finally
        {
            Native.close(fd);
        }
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [DllImport("libc")]
        public static extern int close(int fd);
    }
}
