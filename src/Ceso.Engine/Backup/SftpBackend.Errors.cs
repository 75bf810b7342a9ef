using Ceso.Engine.Ssh.Sftp;

namespace Ceso.Engine.Backup;

/// <summary>How SSH and SFTP failures become the repository's error ids.</summary>
public sealed partial class SftpBackend
{
    /// <summary>The backend's own errors for what the SSH and SFTP layers raise; anything else is returned as it is.
    /// Host-key and login failures keep the ids a host connection gets (SshHostKeyUnknown, SshAuthenticationFailed …).</summary>
    internal Exception Translate(Exception e) => e switch
    {
        SshConnectionException { ErrorId: "SshConnectionLost" } => BackupErrors.Unavailable(Location, "the SFTP connection was lost", e),
        SshConnectionException { ErrorId: "SshConnectTimeout" } => BackupErrors.Unavailable(Location, "no SSH connection within the connect timeout", e),
        SshConnectionException { ErrorId: "SshConnectionFailed" } => BackupErrors.Unavailable(Location, "no SSH connection could be made", e),
        SftpStatusException { Status: SftpStatus.NoConnection or SftpStatus.ConnectionLost } => BackupErrors.Unavailable(Location, "the SFTP server lost its connection", e),
        SftpStatusException { Status: SftpStatus.PermissionDenied } s => BackupErrors.AccessDenied(Location, $"{s.Operation} of '{s.Path}' was denied", e),
        SftpStatusException { Status: SftpStatus.Eof } s => BackupErrors.Corrupt($"file '{s.Path}'", "ended before the range being read", e),
        _ => e,
    };

    /// <summary>
    /// OpenSSH's sftp-server reports ENOSPC as a bare SSH_FX_FAILURE ("Failure"), so a failed write is checked
    /// against statvfs@openssh.com (as restic does): less room than the file needs, or no inodes, is RepositoryFull.
    /// </summary>
    private async Task<Exception> SaveFailureAsync(Exception e, string folder, long needed)
    {
        if (e is SftpStatusException { Status: SftpStatus.Failure, Operation: "open" or "write" or "fsync" or "close" } s)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                if (await _client.StatVfsAsync(folder, cts.Token).ConfigureAwait(false) is { } fs && (fs.AvailableBytes < (ulong)needed || fs.AvailableFiles == 0))
                {
                    return BackupErrors.Full(Location, new IOException(
                        $"no space left on the SFTP server's file system ({fs.AvailableBytes} bytes free, {needed} needed; {s.Operation} of '{s.Path}' failed)", s));
                }
            }
            catch (Exception x) when (x is CesoException or OperationCanceledException)
            {
                // no answer: report the failure as it came
            }
        }

        return Translate(e);
    }
}
