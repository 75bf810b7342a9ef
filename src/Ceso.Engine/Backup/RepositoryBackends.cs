namespace Ceso.Engine.Backup;

/// <summary>Credentials for an S3-compatible repository (an access key and its secret); never logged or shown.</summary>
/// <param name="AccessKey">The access key id.</param>
/// <param name="SecretKey">The secret access key.</param>
/// <param name="SessionToken">A session token for temporary credentials, or null.</param>
public sealed record RepositoryCredentials(string AccessKey, string SecretKey, string? SessionToken = null)
{
    /// <summary>Only the access key: the secret never reaches a string a message could print.</summary>
    public override string ToString() => $"access key {AccessKey}";
}

/// <summary>The backend for a repository location; remote ones are wrapped in <see cref="RetryingBackend"/>.</summary>
public static class RepositoryBackends
{
    /// <summary>
    /// A backend for <paramref name="location"/>. S3 credentials: <paramref name="credentials"/>, else the AWS
    /// variables and profile in <paramref name="environment"/> (the front end passes the process environment; the
    /// location's profile, when it names one, wins over AWS_PROFILE); none is <c>RepositoryCredentialsMissing</c>.
    /// <paramref name="create"/>: a repository is being created, so a missing bucket is made.
    /// </summary>
    public static IBackupBackend Open(RepositoryLocation location, RepositoryCredentials? credentials = null,
        IReadOnlyDictionary<string, string?>? environment = null, bool create = false) => location.Kind switch
    {
        RepositoryKind.Directory => new DirectoryBackend(location.Path!),
        RepositoryKind.S3 => new RetryingBackend(new S3Backend(new S3BackendOptions
        {
            Endpoint = location.Endpoint,
            Bucket = location.Bucket!,
            Prefix = location.Prefix,
            Region = location.Region,
            ForcePathStyle = location.PathStyle,
            Credentials = S3CredentialsFor(location, credentials, environment),
            CreateBucket = create,
        })),
        RepositoryKind.Sftp => new RetryingBackend(new SftpBackend(new Ssh.SshTarget
        {
            Host = location.Host!,
            Port = location.Port,
            User = location.User!,
            IdentityFile = location.IdentityFile,
            KnownHostsFile = location.KnownHostsFile,
        }, location.RemotePath!)),
        _ => throw new ArgumentOutOfRangeException(nameof(location), location.Kind, "no backend for this kind of location"),
    };

    private static Amazon.Runtime.AWSCredentials S3CredentialsFor(RepositoryLocation location, RepositoryCredentials? given, IReadOnlyDictionary<string, string?>? environment)
    {
        if (given is not null)
        {
            return S3Credentials.FromKeys(given.AccessKey, given.SecretKey, given.SessionToken);
        }

        var env = new Dictionary<string, string?>(environment ?? new Dictionary<string, string?>(), StringComparer.Ordinal);
        if (location.Profile is { } profile)
        {
            env["AWS_PROFILE"] = profile;
            env.Remove("AWS_ACCESS_KEY_ID"); // the repository's own profile, not whatever keys the shell has
        }

        return S3Credentials.Resolve(env) ?? throw new CesoException("RepositoryCredentialsMissing", CesoErrorKind.Security,
            $"No credentials for the S3 repository '{location}': give -Credential (the access key id as user name, the secret as password), set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name an AWS profile ({(location.Profile is null ? "AWS_PROFILE, or -AwsProfile when the repository is created" : $"the profile '{location.Profile}' was not found")}).")
        { Target = location.ToString() };
    }
}
