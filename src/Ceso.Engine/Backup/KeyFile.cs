using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Ceso.Engine.Backup;

/// <summary>
/// A key file (<c>keys/&lt;sha256 of the file&gt;</c>): the master key material sealed with AES-256-GCM under a key
/// derived from one password with PBKDF2-HMAC-SHA256 (salt and iteration count stored here). Any key file unlocks
/// the repository; adding or removing one never touches data. The BCL of net8.0 has no memory-hard KDF (no scrypt or
/// Argon2), so PBKDF2 with a high count is what is available without a third-party primitive.
/// </summary>
internal sealed record KeyFile
{
    public const int DefaultIterations = 600_000;
    private const int MaxIterations = 50_000_000;

    public int Version { get; init; } = 1;
    public required string Repository { get; init; }
    public DateTimeOffset Created { get; init; }
    public string? Hostname { get; init; }
    public string? Username { get; init; }
    public string Kdf { get; init; } = "pbkdf2-sha256";
    public int Iterations { get; init; }
    public required string Salt { get; init; }
    public required string Data { get; init; }

    /// <summary>A new key file wrapping <paramref name="keys"/> under <paramref name="password"/>, as the bytes to store.</summary>
    public static byte[] Create(RepositoryKeys keys, string repositoryId, string password, int iterations, DateTimeOffset now)
    {
        if (iterations < 1000) throw BackupErrors.Invalid("A key needs at least 1000 PBKDF2 iterations.");
        var salt = RandomNumberGenerator.GetBytes(32);
        var wrapping = Derive(password, salt, iterations);
        var file = new KeyFile
        {
            Repository = repositoryId,
            Created = now,
            Hostname = Environment.MachineName,
            Username = Environment.UserName,
            Iterations = iterations,
            Salt = Convert.ToBase64String(salt),
            Data = Convert.ToBase64String(RepositoryKeys.Seal(wrapping, keys.ToBytes(), Purpose(repositoryId))),
        };
        return JsonSerializer.SerializeToUtf8Bytes(file, Json.Options);
    }

    /// <summary>Reads a key file's bytes (whose name was already checked against their hash).</summary>
    public static KeyFile Parse(byte[] bytes, string name)
    {
        try
        {
            var file = JsonSerializer.Deserialize<KeyFile>(bytes, Json.Options);
            if (file is { Version: 1, Kdf: "pbkdf2-sha256" } && file.Iterations is >= 1000 and <= MaxIterations) return file;
        }
        catch (JsonException ex)
        {
            throw BackupErrors.Corrupt($"key file '{name}'", "is not valid JSON", ex);
        }

        throw BackupErrors.Corrupt($"key file '{name}'", "has values this Ceso does not accept");
    }

    /// <summary>The master keys, or null when <paramref name="password"/> is not this key's.</summary>
    public RepositoryKeys? Unlock(string password)
    {
        byte[] salt, data;
        try
        {
            salt = Convert.FromBase64String(Salt);
            data = Convert.FromBase64String(Data);
        }
        catch (FormatException)
        {
            return null;
        }

        var material = RepositoryKeys.Open(Derive(password, salt, Iterations), data, Purpose(Repository));
        return material is { Length: 2 * RepositoryKeys.KeySize } ? RepositoryKeys.FromBytes(material) : null;
    }

    private static byte[] Derive(string password, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, RepositoryKeys.KeySize);

    private static byte[] Purpose(string repositoryId) => Encoding.UTF8.GetBytes("ceso:key:" + repositoryId);
}
