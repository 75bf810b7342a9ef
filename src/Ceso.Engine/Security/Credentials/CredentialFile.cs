using System.Text.Json;

namespace Ceso.Engine.Security.Credentials;

/// <summary>One entry of a credential file: the name and metadata in the clear, the secret sealed in <see cref="Data"/>.</summary>
internal sealed record CredentialFileEntry
{
    public required string Name { get; init; }
    public required string Kind { get; init; }
    public string? UserName { get; init; }
    public DateTimeOffset SavedAt { get; init; }
    /// <summary>Base64 of the sealed secret; empty in an index file (the secret lives in the OS keyring).</summary>
    public string Data { get; init; } = "";
}

/// <summary>The JSON of a credential file: how its entries are sealed, and the entries.</summary>
internal sealed record CredentialFileModel
{
    public int Version { get; init; } = 1;
    /// <summary>pbkdf2-sha256 (encrypted file), dpapi (Windows), index (names only, secrets in the keychain).</summary>
    public required string Kdf { get; init; }
    public int Iterations { get; init; }
    public string? Salt { get; init; }
    /// <summary>A known text sealed under the key, so a wrong passphrase is told apart from a damaged entry.</summary>
    public string? Verifier { get; init; }
    public List<CredentialFileEntry> Entries { get; init; } = [];

    public CredentialFileModel With(CredentialFileEntry entry) => this with
    {
        Entries = [.. Entries.Where(e => !e.Name.Equals(entry.Name, StringComparison.Ordinal)).Append(entry).OrderBy(e => e.Name, StringComparer.Ordinal)],
    };
}

/// <summary>
/// A credential file under $CESO_HOME: read without a lock (writes are atomic renames, so a reader sees the old or the new
/// file whole), changed under an exclusive lock file (so saves from several processes never lose one another), written
/// to a temporary file created with mode 0600 on Unix and renamed over the old one.
/// </summary>
internal sealed class CredentialFile(string path)
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    public string Path { get; } = path;

    /// <summary>The file's content, or null when there is no file.</summary>
    public CredentialFileModel? Read()
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(Path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<CredentialFileModel>(bytes, CredentialJson.Options) is { Version: 1 } model
                ? model
                : throw CredentialErrors.Corrupt(Path, "has a version this Ceso does not read");
        }
        catch (JsonException e)
        {
            throw CredentialErrors.Corrupt(Path, "is not valid JSON", e);
        }
    }

    /// <summary>
    /// Reads, changes and writes the file under the lock. <paramref name="change"/> gets the current content (null when
    /// there is none) and returns what to write, or null to leave the file as it is.
    /// </summary>
    public async Task<T> UpdateAsync<T>(Func<CredentialFileModel?, (CredentialFileModel? Write, T Result)> change, CancellationToken ct)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        using var held = await LockAsync(ct).ConfigureAwait(false);
        var (write, result) = change(Read());
        if (write is not null)
        {
            WriteAtomic(JsonSerializer.SerializeToUtf8Bytes(write, CredentialJson.Options));
        }

        return result;
    }

    private async Task<FileStream> LockAsync(CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        while (true)
        {
            try
            {
                // FileShare.None takes an exclusive lock (flock on Unix): writers in any process, or thread, take turns.
                return new FileStream(Path + ".lock", Options(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow - started < LockTimeout)
            {
                await Task.Delay(Random.Shared.Next(5, 25), ct).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw CredentialErrors.Unavailable(Path, $"another Ceso process held its lock ({Path}.lock) for {LockTimeout.TotalSeconds:0} s; try again.", e);
            }
        }
    }

    private void WriteAtomic(byte[] bytes)
    {
        var tmp = Path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            using (var fs = new FileStream(tmp, Options(FileMode.CreateNew, FileAccess.Write, FileShare.None)))
            {
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);
            }

            File.Move(tmp, Path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    private static FileStreamOptions Options(FileMode mode, FileAccess access, FileShare share)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // 0600: only this user reads it
        }

        return options;
    }
}
