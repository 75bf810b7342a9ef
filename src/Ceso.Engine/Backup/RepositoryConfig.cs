using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ceso.Engine.Backup;

/// <summary>Choices made when a repository is created (<see cref="BackupRepository.InitAsync"/>).</summary>
public sealed record RepositoryOptions
{
    /// <summary>The default block size, 1 MiB (measured on real disk images: docs/decisions.md).</summary>
    public const int DefaultBlockSize = 1 << 20;

    /// <summary>The fixed block size of every disk in the repository: a power of two from 4 KiB to 16 MiB.</summary>
    public int BlockSize { get; init; } = DefaultBlockSize;

    /// <summary>PBKDF2-SHA256 iterations for the first key (stored in the key file; 600 000 is OWASP's 2023 figure).</summary>
    public int KdfIterations { get; init; } = KeyFile.DefaultIterations;

    /// <summary>The size at which a pack file is closed and saved (16 MiB).</summary>
    public int PackSize { get; init; } = 16 << 20;
}

/// <summary>The repository configuration as stored in the <c>config</c> file (docs/repository-format.md).</summary>
public sealed record RepositoryConfig
{
    /// <summary>The format version this code reads and writes.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The repository format version.</summary>
    public int Version { get; init; } = CurrentVersion;

    /// <summary>The repository id, 64 hex digits, random at creation; the catalog is kept per id.</summary>
    public required string Id { get; init; }

    /// <summary>When the repository was created (UTC).</summary>
    public DateTimeOffset Created { get; init; }

    /// <summary>The fixed block size of disks.</summary>
    public int BlockSize { get; init; }

    /// <summary>True when data is sealed with AES-256-GCM under a password-wrapped key.</summary>
    public bool Encrypted { get; init; }

    /// <summary>Always <c>zstd</c>.</summary>
    public string Compression { get; init; } = "zstd";

    /// <summary>The id key, base64, only in an unencrypted repository (an encrypted one keeps it in the key files).</summary>
    [JsonInclude]
    internal string? IdKey { get; init; }

    private static readonly byte[] Magic = "CESOREPO"u8.ToArray();
    private const int PrefixLength = 10;

    /// <summary>
    /// The config file: <c>"CESOREPO" | version u8 | encryption u8 (0 none, 1 AES-256-GCM)</c>, then the JSON sealed
    /// with purpose <c>ceso:config:</c> + the prefix as hex.
    /// </summary>
    internal byte[] Encode(RepositoryKeys keys)
    {
        var prefix = Prefix(keys.Encrypted);
        var json = JsonSerializer.SerializeToUtf8Bytes(this, Json.Options);
        return [.. prefix, .. keys.SealFile(json, Purpose(prefix))];
    }

    /// <summary>Whether the config file says the repository is encrypted (before any key is known).</summary>
    internal static bool ReadEncrypted(ReadOnlySpan<byte> file, string location)
    {
        if (file.Length < PrefixLength || !file[..Magic.Length].SequenceEqual(Magic) || file[8] != CurrentVersion || file[9] > 1)
        {
            throw new CesoException("RepositoryNotFound", CesoErrorKind.NotFound,
                $"'{location}' is not a Ceso backup repository of a version this Ceso reads (its config file starts wrongly). Check the path, or create one with Initialize-CesoBackupRepository.")
            { Target = location };
        }

        return file[9] == 1;
    }

    /// <summary>Reads the config file with the repository's keys (for an unencrypted one: keys with the id key unknown yet).</summary>
    internal static RepositoryConfig Decode(ReadOnlySpan<byte> file, RepositoryKeys? keys, string location)
    {
        var encrypted = ReadEncrypted(file, location);
        var opener = keys ?? RepositoryKeys.FromBytes(new byte[RepositoryKeys.KeySize]);
        var json = opener.OpenFile(file[PrefixLength..], Purpose(file[..PrefixLength].ToArray()))
            ?? throw BackupErrors.Corrupt("the config file", "does not authenticate (damaged, or not this repository's)");
        RepositoryConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<RepositoryConfig>(json, Json.Options);
        }
        catch (JsonException ex)
        {
            throw BackupErrors.Corrupt("the config file", "is not valid JSON", ex);
        }

        if (config is null || config.Version != CurrentVersion || config.Encrypted != encrypted || config.BlockSize < 4096 ||
            config.BlockSize > (16 << 20) || (config.BlockSize & (config.BlockSize - 1)) != 0 || config.Id.Length != 64 ||
            (!encrypted && config.IdKey is null))
        {
            throw BackupErrors.Corrupt("the config file", "has values this Ceso does not accept");
        }

        return config;
    }

    private static byte[] Prefix(bool encrypted) => [.. Magic, CurrentVersion, encrypted ? (byte)1 : (byte)0];

    private static string Purpose(byte[] prefix) => "ceso:config:" + Convert.ToHexString(prefix);
}

/// <summary>The JSON settings of every repository file: camelCase names, no indentation, enums as strings.</summary>
internal static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
