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
    /// <summary>A backend for <paramref name="location"/>; <paramref name="credentials"/> only for S3 (else the usual AWS chain).</summary>
    public static IBackupBackend Open(RepositoryLocation location, RepositoryCredentials? credentials = null) => location.Kind switch
    {
        RepositoryKind.Directory => new DirectoryBackend(location.Path!),
        _ => throw new CesoException("RepositoryUrlNotSupported", CesoErrorKind.NotSupported,
            $"'{location}' is a {location.Kind} location; this build of Ceso keeps repositories in directories (a local path or an NFS mount). Give a path.")
        { Target = location.ToString() },
    };
}
