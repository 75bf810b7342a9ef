using System.Globalization;

namespace Ceso.Engine.Backup;

/// <summary>The kinds of place a repository can be.</summary>
public enum RepositoryKind
{
    /// <summary>A directory: a local disk or an NFS/SMB mount.</summary>
    Directory,
    /// <summary>A folder on an SSH server over SFTP (any server, an ESXi datastore included).</summary>
    Sftp,
    /// <summary>A bucket (and prefix) of an S3-compatible object store.</summary>
    S3,
}

/// <summary>
/// Where a repository is, parsed from what a user types or config.yaml holds:
/// <list type="bullet">
/// <item><c>/path</c>, <c>./path</c>, <c>C:\path</c>: a directory;</item>
/// <item><c>sftp://[user@]host[:port]/absolute/path</c>: SFTP over the system OpenSSH client (user defaults to the
/// local user name, as ssh does; the port to 22);</item>
/// <item><c>s3://bucket[/prefix]</c>: S3, at AWS unless an endpoint is given; <c>s3:http[s]://host[:port]/bucket[/prefix]</c>
/// (restic's form): an S3-compatible server at that endpoint, path-style.</item>
/// </list>
/// It never holds a secret: credentials come separately (AWS variables or profile, a PSCredential; ssh keys and agent).
/// </summary>
public sealed record RepositoryLocation
{
    /// <summary>Which kind of place.</summary>
    public required RepositoryKind Kind { get; init; }

    /// <summary>A directory repository's full path.</summary>
    public string? Path { get; init; }

    /// <summary>SFTP: the login user.</summary>
    public string? User { get; init; }

    /// <summary>SFTP: the host name or address.</summary>
    public string? Host { get; init; }

    /// <summary>SFTP: the TCP port.</summary>
    public int Port { get; init; } = 22;

    /// <summary>SFTP: the absolute folder on the server.</summary>
    public string? RemotePath { get; init; }

    /// <summary>SFTP: a private key file (else the agent or ~/.ssh/config).</summary>
    public string? IdentityFile { get; init; }

    /// <summary>SFTP: the known_hosts file the server's key is checked against (else the user's default).</summary>
    public string? KnownHostsFile { get; init; }

    /// <summary>S3: the bucket.</summary>
    public string? Bucket { get; init; }

    /// <summary>S3: the key prefix inside the bucket ("" for the bucket's root), without a trailing slash.</summary>
    public string Prefix { get; init; } = "";

    /// <summary>S3: the endpoint of an S3-compatible server; null = AWS.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>S3: the region (signing region for S3-compatible servers).</summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary>S3: path-style addressing (<c>endpoint/bucket/key</c>), which most S3-compatible servers need.</summary>
    public bool PathStyle { get; init; }

    /// <summary>S3: the AWS profile (~/.aws/credentials) to take credentials from; null = the usual chain.</summary>
    public string? Profile { get; init; }

    /// <summary>Whether the repository is reached over a network (retries and timeouts apply).</summary>
    public bool IsRemote => Kind != RepositoryKind.Directory;

    /// <summary>The location as a user would type it (no secrets), for messages and config.yaml.</summary>
    public override string ToString() => Kind switch
    {
        RepositoryKind.Sftp => $"sftp://{User}@{(Host!.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)}{(Port == 22 ? "" : ":" + Port.ToString(CultureInfo.InvariantCulture))}{RemotePath}",
        RepositoryKind.S3 when Endpoint is not null => $"s3:{Endpoint.GetLeftPart(UriPartial.Authority)}/{Bucket}{(Prefix.Length > 0 ? "/" + Prefix : "")}",
        RepositoryKind.S3 => $"s3://{Bucket}{(Prefix.Length > 0 ? "/" + Prefix : "")}",
        _ => Path!,
    };

    /// <summary>Whether <paramref name="text"/> is a URL form (sftp or s3) rather than a path or a name.</summary>
    public static bool IsUrl(string text) =>
        text.StartsWith("sftp://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("s3:", StringComparison.OrdinalIgnoreCase) ||
        text.Contains("://", StringComparison.Ordinal);

    /// <summary>
    /// Parses a location; <paramref name="basePath"/> resolves a relative directory path. Options that a URL cannot say
    /// (an S3 endpoint for <c>s3://</c>, region, path style, profile, an SFTP key and known_hosts) come from
    /// <paramref name="options"/> (config.yaml's entry or cmdlet parameters). <c>RepositoryLocationInvalid</c> says what
    /// is wrong and what form is expected.
    /// </summary>
    public static RepositoryLocation Parse(string text, RepositoryLocationOptions? options = null, string? basePath = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        options ??= new RepositoryLocationOptions();
        text = text.Trim();
        if (text.StartsWith("sftp://", StringComparison.OrdinalIgnoreCase))
        {
            return ParseSftp(text, options);
        }

        if (text.StartsWith("s3:", StringComparison.OrdinalIgnoreCase))
        {
            return ParseS3(text, options);
        }

        if (text.Contains("://", StringComparison.Ordinal))
        {
            throw Invalid(text, $"'{text[..text.IndexOf("://", StringComparison.Ordinal)]}' is not a repository scheme Ceso knows");
        }

        return new RepositoryLocation
        {
            Kind = RepositoryKind.Directory,
            Path = basePath is null ? System.IO.Path.GetFullPath(text) : System.IO.Path.GetFullPath(text, basePath),
        };
    }

    private static RepositoryLocation ParseSftp(string text, RepositoryLocationOptions options)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            throw Invalid(text, "it is not a valid sftp URL");
        }

        if (uri.UserInfo.Contains(':', StringComparison.Ordinal))
        {
            throw Invalid("sftp://…", "it carries a password; Ceso logs in over SFTP with keys (an identity file or the ssh agent), never a password in a URL");
        }

        var path = Uri.UnescapeDataString(uri.AbsolutePath).TrimEnd('/');
        if (path.Length == 0 || path.Contains("/../", StringComparison.Ordinal) || path.EndsWith("/..", StringComparison.Ordinal))
        {
            throw Invalid(text, "it names no folder on the server (or climbs out with '..'); give an absolute folder, e.g. sftp://root@esxi01/vmfs/volumes/backup/ceso");
        }

        return new RepositoryLocation
        {
            Kind = RepositoryKind.Sftp,
            User = uri.UserInfo.Length > 0 ? Uri.UnescapeDataString(uri.UserInfo) : Environment.UserName,
            Host = uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port < 0 ? 22 : uri.Port,
            RemotePath = path,
            IdentityFile = options.IdentityFile,
            KnownHostsFile = options.KnownHostsFile,
        };
    }

    private static RepositoryLocation ParseS3(string text, RepositoryLocationOptions options)
    {
        Uri? endpoint = options.Endpoint;
        string rest;
        var pathStyle = options.PathStyle;
        if (text.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
        {
            rest = text[5..];
        }
        else
        {
            // restic's form, s3:https://host:port/bucket/prefix: the endpoint is in the URL and addressing is path-style.
            if (!Uri.TryCreate(text[3..], UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.Host.Length == 0)
            {
                throw Invalid(text, "it is neither s3://bucket/prefix nor s3:https://endpoint/bucket/prefix");
            }

            endpoint = new Uri(url.GetLeftPart(UriPartial.Authority));
            rest = Uri.UnescapeDataString(url.AbsolutePath).TrimStart('/');
            pathStyle ??= true;
        }

        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var bucket = slash < 0 ? rest : rest[..slash];
        var prefix = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');
        if (!IsBucketName(bucket))
        {
            throw Invalid(text, $"'{bucket}' is not an S3 bucket name (3–63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit)");
        }

        if (prefix.Split('/').Any(p => p is "." or ".." || p.Length == 0) && prefix.Length > 0)
        {
            throw Invalid(text, $"the prefix '{prefix}' has an empty, '.' or '..' part");
        }

        if (endpoint is not null && endpoint.Scheme is not ("http" or "https"))
        {
            throw Invalid(text, $"the endpoint '{endpoint}' is not an http or https URL");
        }

        return new RepositoryLocation
        {
            Kind = RepositoryKind.S3,
            Bucket = bucket,
            Prefix = prefix,
            Endpoint = endpoint,
            Region = string.IsNullOrWhiteSpace(options.Region) ? "us-east-1" : options.Region,
            PathStyle = pathStyle ?? endpoint is not null,
            Profile = options.Profile,
        };
    }

    private static bool IsBucketName(string b) =>
        b.Length is >= 3 and <= 63 && char.IsAsciiLetterOrDigit(b[0]) && char.IsAsciiLetterOrDigit(b[^1]) &&
        b.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-');

    private static CesoException Invalid(string text, string why) =>
        new("RepositoryLocationInvalid", CesoErrorKind.InvalidArgument,
            $"'{text}' is not a repository location Ceso can use: {why}. Use a directory path, sftp://user@host/folder, s3://bucket/prefix (with -S3Endpoint for a server that is not AWS) or s3:https://endpoint/bucket/prefix.")
        { Target = text };
}

/// <summary>What a location URL cannot say; from config.yaml or cmdlet parameters.</summary>
public sealed record RepositoryLocationOptions
{
    /// <summary>S3: the endpoint of an S3-compatible server.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>S3: the region.</summary>
    public string? Region { get; init; }

    /// <summary>S3: path-style addressing; null = on when an endpoint is given.</summary>
    public bool? PathStyle { get; init; }

    /// <summary>S3: the AWS profile name.</summary>
    public string? Profile { get; init; }

    /// <summary>SFTP: a private key file.</summary>
    public string? IdentityFile { get; init; }

    /// <summary>SFTP: a known_hosts file.</summary>
    public string? KnownHostsFile { get; init; }
}
