using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;

namespace Ceso.Engine.Backup;

/// <summary>Where an <see cref="S3Backend"/> keeps its repository and how it talks to the S3 server.</summary>
public sealed record S3BackendOptions
{
    /// <summary>The smallest part S3 accepts in a multipart upload (every part but the last).</summary>
    public const long MinPartSize = 5L << 20;

    /// <summary>The S3-compatible server (<c>http://127.0.0.1:8080</c>, <c>https://minio.example</c>); null for AWS S3 itself.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>The bucket that holds the repository.</summary>
    public required string Bucket { get; init; }

    /// <summary>The folder inside the bucket (<c>backups/ceso</c>; no leading or trailing slash needed); empty for the bucket's root.</summary>
    public string Prefix { get; init; } = "";

    /// <summary>The region requests are signed for (and, without an <see cref="Endpoint"/>, whose AWS endpoint is used).</summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary>
    /// Path-style addressing (<c>endpoint/bucket/key</c>) instead of a virtual host per bucket; null means true with an
    /// <see cref="Endpoint"/> (what most S3-compatible servers need) and false for AWS.
    /// </summary>
    public bool? ForcePathStyle { get; init; }

    /// <summary>
    /// The credentials (required): <see cref="S3Credentials.FromKeys"/>, <see cref="S3Credentials.Resolve"/> or any
    /// <see cref="AWSCredentials"/>. The backend never falls back to the SDK's ambient chain or to instance metadata.
    /// </summary>
    public AWSCredentials? Credentials { get; init; }

    /// <summary>
    /// Files larger than this go up as a multipart upload, smaller ones in one PUT. The default keeps a repository's
    /// 16 MiB packs (and their overshoot) in one PUT: on Swift a 16 MiB pack took 130–145 ms as one PUT and 215–340 ms
    /// as two 8 MiB parts (docs/decisions.md, "S3 backend").
    /// </summary>
    public long MultipartThreshold { get; init; } = 32L << 20;

    /// <summary>The size of each part of a multipart upload (at least <see cref="MinPartSize"/>); one part is held in memory per save.</summary>
    public long PartSize { get; init; } = 16L << 20;

    /// <summary>Keys per listing page (S3 allows up to 1000); null for the server's default. Small values test paging.</summary>
    public int? ListPageSize { get; init; }

    /// <summary>When the bucket does not exist, the first save creates it (otherwise every call fails with <c>RepositoryBucketMissing</c>).</summary>
    public bool CreateBucket { get; init; }

    /// <summary>How long the TCP connect to the server may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The prefix as the backend uses it: no leading slash, one trailing slash, or empty.</summary>
    internal string KeyPrefix => Prefix.Trim('/') is { Length: > 0 } p ? p + "/" : "";

    /// <summary>Throws <c>BackupInvalidArgument</c> when a setting cannot work.</summary>
    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Bucket) || Bucket.Contains('/'))
        {
            throw BackupErrors.Invalid($"'{Bucket}' is not an S3 bucket name.");
        }

        if (Credentials is null)
        {
            throw BackupErrors.Invalid("The S3 backend needs credentials: pass an access key and secret (S3Credentials.FromKeys) or resolve them from AWS_* variables or a profile (S3Credentials.Resolve).");
        }

        if (PartSize < MinPartSize || PartSize > (5L << 30))
        {
            throw BackupErrors.Invalid($"An S3 part size of {PartSize} bytes is outside what S3 accepts (5 MiB to 5 GiB).");
        }

        if (MultipartThreshold < 0 || ListPageSize is < 1 or > 1000)
        {
            throw BackupErrors.Invalid("The S3 multipart threshold must be >= 0 and the listing page size between 1 and 1000.");
        }
    }
}

/// <summary>Ways to get the <see cref="S3BackendOptions.Credentials"/>, none of which asks instance metadata.</summary>
public static class S3Credentials
{
    /// <summary>An access key and secret, with a session token for temporary credentials.</summary>
    public static AWSCredentials FromKeys(string accessKey, string secretKey, string? sessionToken = null) =>
        string.IsNullOrEmpty(sessionToken)
            ? new BasicAWSCredentials(accessKey, secretKey)
            : new SessionAWSCredentials(accessKey, secretKey, sessionToken);

    /// <summary>
    /// The usual AWS variables, read from <paramref name="environment"/> (pass the process environment): the keys in
    /// <c>AWS_ACCESS_KEY_ID</c>, <c>AWS_SECRET_ACCESS_KEY</c> and <c>AWS_SESSION_TOKEN</c> when set; otherwise the profile
    /// <c>AWS_PROFILE</c> (or <c>default</c>) of the shared credentials and config files (<c>AWS_SHARED_CREDENTIALS_FILE</c>,
    /// else <c>~/.aws/credentials</c>), resolved by the SDK's profile chain (keys, assume-role, SSO, credential_process).
    /// Unlike the SDK's default chain this never asks EC2/ECS instance metadata; a profile whose
    /// <c>credential_source</c> is instance metadata is refused. Null when nothing is configured.
    /// </summary>
    public static AWSCredentials? Resolve(IReadOnlyDictionary<string, string?> environment)
    {
        string? Get(string name) => environment.TryGetValue(name, out var v) && !string.IsNullOrEmpty(v) ? v : null;

        if (Get("AWS_ACCESS_KEY_ID") is { } id && Get("AWS_SECRET_ACCESS_KEY") is { } secret)
        {
            return FromKeys(id, secret, Get("AWS_SESSION_TOKEN"));
        }

        var profileName = Get("AWS_PROFILE") ?? "default";
        var chain = new CredentialProfileStoreChain(Get("AWS_SHARED_CREDENTIALS_FILE"));
        if (!chain.TryGetProfile(profileName, out var profile))
        {
            return null;
        }

        if (profile.Options.CredentialSource is { } source && !source.Equals("Environment", StringComparison.OrdinalIgnoreCase))
        {
            throw BackupErrors.Invalid($"The AWS profile '{profileName}' takes its credentials from '{source}' (instance metadata); Ceso never asks instance metadata. Give the profile keys, SSO or a credential_process, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.");
        }

        return chain.TryGetAWSCredentials(profileName, out var credentials) ? credentials : null;
    }
}
