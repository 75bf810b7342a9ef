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
}
