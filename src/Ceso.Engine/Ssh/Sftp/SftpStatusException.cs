namespace Ceso.Engine.Ssh.Sftp;

/// <summary>
/// The SFTP server answered a request with a status other than OK (or EOF where EOF is not expected). OpenSSH's
/// sftp-server sends only the code and its generic text ("Failure"), never the errno, so callers that need the cause
/// (a full disk, a name that exists) ask the server again (statvfs, stat).
/// </summary>
internal sealed class SftpStatusException(SftpStatus status, string serverMessage, string operation, string path, SshTarget target)
    : CesoException("SftpRequestFailed", KindOf(status),
        $"The SFTP server {target} refused {operation} of '{path}': {Describe(status, serverMessage)}.")
{
    /// <summary>The status code the server sent.</summary>
    public SftpStatus Status { get; } = status;

    /// <summary>The request that failed (open, write, rename …).</summary>
    public string Operation { get; } = operation;

    /// <summary>The remote path the request named.</summary>
    public string Path { get; } = path;

    private static CesoErrorKind KindOf(SftpStatus s) => s switch
    {
        SftpStatus.NoSuchFile => CesoErrorKind.NotFound,
        SftpStatus.PermissionDenied => CesoErrorKind.Security,
        SftpStatus.NoConnection or SftpStatus.ConnectionLost => CesoErrorKind.Connection,
        _ => CesoErrorKind.HostError,
    };

    private static string Describe(SftpStatus s, string message)
    {
        var code = s switch
        {
            SftpStatus.Eof => "SSH_FX_EOF",
            SftpStatus.NoSuchFile => "SSH_FX_NO_SUCH_FILE",
            SftpStatus.PermissionDenied => "SSH_FX_PERMISSION_DENIED",
            SftpStatus.Failure => "SSH_FX_FAILURE",
            SftpStatus.BadMessage => "SSH_FX_BAD_MESSAGE",
            SftpStatus.NoConnection => "SSH_FX_NO_CONNECTION",
            SftpStatus.ConnectionLost => "SSH_FX_CONNECTION_LOST",
            SftpStatus.OpUnsupported => "SSH_FX_OP_UNSUPPORTED",
            _ => $"status {(uint)s}",
        };
        return message.Length > 0 ? $"{message} ({code})" : code;
    }
}
