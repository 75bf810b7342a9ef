using System.Security.Cryptography;

namespace Ceso.Engine.Backup;

/// <summary>
/// The envelope of index, snapshot and lock files: a payload prefixed with a compression byte (0 raw, 1 zstd frame),
/// sealed for a purpose (<see cref="RepositoryKeys.SealFile"/>), stored under the SHA-256 of the stored bytes.
/// </summary>
internal static class SealedFile
{
    private const long MaxPayload = 1L << 30;

    /// <summary>The stored bytes and their name.</summary>
    public static (string Name, byte[] Bytes) Write(RepositoryKeys keys, string purpose, ReadOnlySpan<byte> payload)
    {
        var compressed = Zstd.TryCompress(payload);
        byte[] framed = compressed is null ? [0, .. payload] : [1, .. compressed];
        var bytes = keys.SealFile(framed, purpose);
        return (NameOf(bytes), bytes);
    }

    /// <summary>Opens stored bytes: the name must be their hash, the seal must hold, the frame must decompress.</summary>
    public static byte[] Read(RepositoryKeys keys, string purpose, byte[] bytes, FileKind kind, string name)
    {
        var what = $"{kind.ToString().ToLowerInvariant()} file '{name}'";
        if (NameOf(bytes) != name) throw BackupErrors.Corrupt(what, "does not match its name (its SHA-256 differs)");
        var framed = keys.OpenFile(bytes, purpose) ?? throw BackupErrors.Corrupt(what, "does not authenticate");
        if (framed.Length == 0) throw BackupErrors.Corrupt(what, "is empty");
        return framed[0] switch
        {
            0 => framed[1..],
            1 => Zstd.Decompress(framed.AsSpan(1), MaxPayload) ?? throw BackupErrors.Corrupt(what, "does not decompress"),
            _ => throw BackupErrors.Corrupt(what, $"has an unknown compression {framed[0]}"),
        };
    }

    /// <summary>Lowercase hex SHA-256: the name of every content-addressed file.</summary>
    public static string NameOf(ReadOnlySpan<byte> bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    /// <summary>Reads a whole file of a backend.</summary>
    public static async Task<byte[]> LoadAsync(IBackupBackend backend, FileKind kind, string name, CancellationToken ct)
    {
        await using var stream = await backend.OpenAsync(kind, name, ct: ct).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, ct).ConfigureAwait(false);
        return buffer.ToArray();
    }
}
