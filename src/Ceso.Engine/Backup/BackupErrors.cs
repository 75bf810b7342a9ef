namespace Ceso.Engine.Backup;

/// <summary>The errors of the backup repository, with their stable ids, in one place.</summary>
internal static class BackupErrors
{
    public static CesoException Corrupt(string what, string detail, Exception? inner = null) =>
        new("RepositoryDataCorrupt", CesoErrorKind.InvalidState,
            $"The backup repository is damaged: {what} {detail}. Run Test-CesoBackup -ReadData to see which snapshots are affected; do not prune until it is repaired.",
            inner) { Target = what };

    public static CesoException PasswordWrong(string location) =>
        new("RepositoryPasswordWrong", CesoErrorKind.Security,
            $"No key of the backup repository '{location}' opens with this password. Check the password; nothing was changed.")
        { Target = location };

    public static CesoException Full(string location, Exception inner) =>
        new("RepositoryFull", CesoErrorKind.InvalidState,
            $"The backup repository '{location}' is full: {inner.Message}. Free space (Remove-CesoBackup, then prune) and try again; no half-written file was left.",
            inner) { Target = location };

    public static CesoException FileMissing(FileKind kind, string name, string location) =>
        new("RepositoryFileMissing", CesoErrorKind.NotFound,
            $"The {kind.ToString().ToLowerInvariant()} file '{name}' is missing from the backup repository '{location}'.")
        { Target = name };

    public static CesoException NotFound(string what, string location) =>
        new("BackupNotFound", CesoErrorKind.NotFound, $"There is no {what} in the backup repository '{location}'.") { Target = what };

    public static CesoException Invalid(string message) => new("BackupInvalidArgument", CesoErrorKind.InvalidArgument, message);

    public static CesoException State(string id, string message) => new(id, CesoErrorKind.InvalidState, message);

    /// <summary>
    /// A failure that may pass if tried again (connection dropped or refused, a timeout, a server answering 5xx or
    /// "slow down"): <see cref="RetryingBackend"/> retries exactly these, with backoff. Backends raise it for nothing else.
    /// </summary>
    public static CesoException Unavailable(string location, string detail, Exception? inner = null) =>
        new("RepositoryUnavailable", CesoErrorKind.Connection,
            $"The backup repository '{location}' did not answer: {detail}. Check the network and the server, then try again; a file whose save failed is not visible in the repository.",
            inner) { Target = location };

    /// <summary>The target refused the credentials or the operation (S3 403, SFTP permission denied): never retried.</summary>
    public static CesoException AccessDenied(string location, string detail, Exception? inner = null) =>
        new("RepositoryAccessDenied", CesoErrorKind.Security,
            $"The backup repository '{location}' refused access: {detail}. Check the credentials and the permissions on the target; nothing was written.",
            inner) { Target = location };

    /// <summary>True for the errors a retry may cure (<see cref="Unavailable"/>).</summary>
    public static bool IsTransient(Exception ex) => ex is CesoException { ErrorId: "RepositoryUnavailable" };
}
