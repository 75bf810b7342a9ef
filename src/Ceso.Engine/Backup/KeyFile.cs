using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ceso.Engine.Security;

namespace Ceso.Engine.Backup;

/// <summary>
/// A key file (<c>keys/&lt;sha256 of the file&gt;</c>): the master key material sealed with AES-256-GCM under a key
/// derived from one password with PBKDF2-HMAC-SHA256 (salt and iteration count stored here). Any key file unlocks
/// the repository; adding or removing one never touches data. The derivation and sealing are <see cref="PassphraseKey"/>'s,
/// shared with the encrypted credential file.
/// </summary>
internal sealed record KeyFile
{
    public const int DefaultIterations = PassphraseKey.DefaultIterations;

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
        if (iterations < PassphraseKey.MinIterations) throw BackupErrors.Invalid("A key needs at least 1000 PBKDF2 iterations.");
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
            if (file is { Version: 1, Kdf: "pbkdf2-sha256" } && PassphraseKey.AcceptsIterations(file.Iterations)) return file;
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

    private static byte[] Derive(string password, byte[] salt, int iterations) => PassphraseKey.Derive(password, salt, iterations);

    private static byte[] Purpose(string repositoryId) => Encoding.UTF8.GetBytes("ceso:key:" + repositoryId);
}
