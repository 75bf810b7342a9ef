using Ceso.Engine.Connection;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Ceso.Engine.Configuration;

/// <summary>
/// The user's configuration, $CESO_HOME/config.yaml: the template registry and the backup repositories by name.
/// <code>
/// templates:
///   ubuntu-24.04:
///     vm: tpl-ubuntu-2404          # a registered, powered-off VM on the host
///     server: esx01.lab.local      # optional: only on this server
///     description: Ubuntu 24.04 LTS golden image, cloud-init + open-vm-tools
/// repositories:
///   nas:
///     location: /mnt/nas/ceso      # a directory (a local path or an NFS mount)
///     description: nightly backups
///   offsite:
///     location: s3://ceso-backups/site1
///     endpoint: https://s3.example.net   # an S3-compatible server (none: AWS)
///     region: eu-central-1
///     path-style: true
///     profile: backup                    # AWS profile for the credentials (none: the usual AWS chain)
///   esxi-ds:
///     location: sftp://root@esxi02/vmfs/volumes/backup/ceso
///     identity-file: ~/.ssh/id_ed25519
///     known-hosts-file: ~/.ceso/known_hosts
/// </code>
/// A missing file is an empty configuration; a malformed one is an error naming the file, line and column.
/// </summary>
public sealed class CesoConfig
{
    /// <summary>Templates by name.</summary>
    public Dictionary<string, TemplateEntry> Templates { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Backup repositories by name.</summary>
    public Dictionary<string, RepositoryEntry> Repositories { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The file of a Ceso home.</summary>
    public static string PathOf(CesoHome home) => System.IO.Path.Combine(home.Path, "config.yaml");

    /// <summary>Reads $CESO_HOME/config.yaml.</summary>
    public static CesoConfig Load(CesoHome home) => LoadFile(PathOf(home));

    /// <summary>Reads a configuration file at <paramref name="path"/> (also a file about to replace config.yaml).</summary>
    internal static CesoConfig LoadFile(string path)
    {
        if (!File.Exists(path))
        {
            return new CesoConfig();
        }

        var deserializer = new DeserializerBuilder().WithNamingConvention(HyphenatedNamingConvention.Instance).Build();
        CesoConfig config;
        try
        {
            config = deserializer.Deserialize<CesoConfig?>(File.ReadAllText(path)) ?? new CesoConfig();
        }
        catch (YamlException e)
        {
            throw new CesoException("InvalidConfiguration", CesoErrorKind.InvalidArgument,
                $"{path} line {e.Start.Line}, column {e.Start.Column}: {e.InnerException?.Message ?? e.Message} Fix the file; see docs/about_Ceso.md for its format.", e)
            { Target = path };
        }

        config.Templates = new Dictionary<string, TemplateEntry>(config.Templates ?? [], StringComparer.OrdinalIgnoreCase);
        foreach (var (name, entry) in config.Templates)
        {
            if (string.IsNullOrWhiteSpace(entry?.Vm))
            {
                throw new CesoException("InvalidConfiguration", CesoErrorKind.InvalidArgument,
                    $"{path}: template '{name}' has no 'vm:' (the registered VM it stands for).") { Target = path };
            }
        }

        config.Repositories = new Dictionary<string, RepositoryEntry>(config.Repositories ?? [], StringComparer.OrdinalIgnoreCase);
        foreach (var (name, entry) in config.Repositories)
        {
            if (string.IsNullOrWhiteSpace(entry?.Location))
            {
                throw new CesoException("InvalidConfiguration", CesoErrorKind.InvalidArgument,
                    $"{path}: repository '{name}' has no 'location:' (the folder or URL it is at).") { Target = path };
            }
        }

        return config;
    }

    /// <summary>The registry entry for a template name on a server, or null.</summary>
    public TemplateEntry? Template(string name, string server) =>
        Templates.TryGetValue(name, out var e) && (e.Server is null || e.Server.Equals(server, StringComparison.OrdinalIgnoreCase)) ? e : null;
}

/// <summary>A template in the registry.</summary>
public sealed class TemplateEntry
{
    /// <summary>The registered, powered-off VM the template stands for.</summary>
    public string Vm { get; set; } = "";

    /// <summary>The server it is on; null = any.</summary>
    public string? Server { get; set; }

    /// <summary>What it is.</summary>
    public string? Description { get; set; }

    /// <summary>Default vCPUs of a VM made from it (New-CesoVm without -NumCpu); null = the template VM's.</summary>
    public int? NumCpu { get; set; }

    /// <summary>Default memory in MiB of a VM made from it (New-CesoVm without -MemoryGB); null = the template VM's.</summary>
    [YamlMember(Alias = "memory-mb")]
    public long? MemoryMB { get; set; }

    /// <summary>Default size in GiB of the first disk (New-CesoVm without -DiskGB); null = the template VM's.</summary>
    [YamlMember(Alias = "disk-gb")]
    public int? DiskGB { get; set; }

    /// <summary>Default portgroup of the first network adapter (New-CesoVm without -Network); null = the template VM's.</summary>
    public string? Network { get; set; }

    /// <summary>The last Test-CesoTemplate result: <c>Ready</c>, or <c>NotReady: Snapshots, CdRom</c> (the failed checks).</summary>
    public string? LastResult { get; set; }

    /// <summary>When Test-CesoTemplate last checked it (ISO 8601, UTC).</summary>
    public string? LastChecked { get; set; }
}

/// <summary>A backup repository in the registry.</summary>
public sealed class RepositoryEntry
{
    /// <summary>Where it is: a directory path (local or an NFS mount), <c>sftp://user@host/folder</c> or <c>s3://bucket/prefix</c>.</summary>
    public string Location { get; set; } = "";

    /// <summary>What it is for.</summary>
    public string? Description { get; set; }

    /// <summary>S3: the endpoint of an S3-compatible server (none: AWS).</summary>
    public string? Endpoint { get; set; }

    /// <summary>S3: the region.</summary>
    public string? Region { get; set; }

    /// <summary>S3: path-style addressing (default: on with an endpoint).</summary>
    public bool? PathStyle { get; set; }

    /// <summary>S3: the AWS profile whose credentials are used.</summary>
    public string? Profile { get; set; }

    /// <summary>SFTP: the private key file.</summary>
    public string? IdentityFile { get; set; }

    /// <summary>SFTP: the known_hosts file.</summary>
    public string? KnownHostsFile { get; set; }

    /// <summary>The options a location URL cannot carry, as <see cref="Backup.RepositoryLocation.Parse"/> takes them.</summary>
    public Backup.RepositoryLocationOptions Options() => new()
    {
        Endpoint = Endpoint is { Length: > 0 } e ? new Uri(e, UriKind.Absolute) : null,
        Region = Region,
        PathStyle = PathStyle,
        Profile = Profile,
        IdentityFile = Expand(IdentityFile),
        KnownHostsFile = Expand(KnownHostsFile),
    };

    private static string? Expand(string? path) =>
        path is ['~', '/', ..] ? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[2..]) : path;
}
