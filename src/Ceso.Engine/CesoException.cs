namespace Ceso.Engine;

/// <summary>
/// Base of every error the engine raises. Carries what failed (host, VM, the command or SOAP method) and what to do;
/// <see cref="ErrorId"/> is stable and becomes the PowerShell FullyQualifiedErrorId.
/// </summary>
public class CesoException : Exception
{
    /// <summary>Creates an error with a stable id, a message that says what to do, and the cause.</summary>
    public CesoException(string errorId, CesoErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
    }

    /// <summary>Stable identifier, e.g. <c>SshHostKeyMismatch</c>.</summary>
    public string ErrorId { get; }

    /// <summary>Broad class of the failure; the cmdlet layer maps it to an ErrorCategory.</summary>
    public CesoErrorKind Kind { get; }

    /// <summary>The host the operation talked to, when known.</summary>
    public string? Host { get; init; }

    /// <summary>The remote command line (redacted) or SOAP method that failed, when there was one.</summary>
    public string? Command { get; init; }

    /// <summary>The object the failure is about (a VM name, a path), when known.</summary>
    public object? Target { get; init; }

    /// <summary>
    /// True when the command or call may have taken effect on the host although it failed (the connection broke or the
    /// answer timed out while it ran); a plan then never reports the host as unchanged.
    /// </summary>
    public bool MayHaveTakenEffect { get; init; }
}

/// <summary>Broad classes of failure, mapped one-to-one onto PowerShell error categories.</summary>
public enum CesoErrorKind
{
    /// <summary>The input is malformed.</summary>
    InvalidArgument,
    /// <summary>The named object does not exist.</summary>
    NotFound,
    /// <summary>Authentication or host identity failed.</summary>
    Security,
    /// <summary>The host could not be reached or the connection broke.</summary>
    Connection,
    /// <summary>The host answered with an error.</summary>
    HostError,
    /// <summary>The object is in a state that does not allow the operation.</summary>
    InvalidState,
    /// <summary>The operation was cancelled.</summary>
    Cancelled,
    /// <summary>The license or host forbids the operation.</summary>
    NotSupported,
}

/// <summary>The SSH host key is unknown or differs from known_hosts.</summary>
public sealed class SshHostKeyException(string errorId, string message, Exception? inner = null)
    : CesoException(errorId, CesoErrorKind.Security, message, inner);

/// <summary>The SSH connection could not be made or was lost.</summary>
public sealed class SshConnectionException : CesoException
{
    /// <summary>Creates the error; <c>SshConnectionLost</c> (the connection broke while a command ran) leaves the command's outcome unknown.</summary>
    public SshConnectionException(string errorId, string message, Exception? inner = null)
        : base(errorId, CesoErrorKind.Connection, message, inner) =>
        MayHaveTakenEffect = errorId == "SshConnectionLost";
}

/// <summary>A remote command ran and exited non-zero.</summary>
public sealed class RemoteCommandException(string message, int exitCode, string stderr)
    : CesoException("RemoteCommandFailed", CesoErrorKind.HostError, message)
{
    /// <summary>The remote exit code.</summary>
    public int ExitCode { get; } = exitCode;

    /// <summary>What the command wrote to stderr.</summary>
    public string Stderr { get; } = stderr;
}

/// <summary>The TLS certificate of a host differs from the pinned thumbprint, or is not yet trusted.</summary>
public sealed class TlsThumbprintException(string errorId, string message)
    : CesoException(errorId, CesoErrorKind.Security, message);

/// <summary>The vSphere API answered with a fault.</summary>
public sealed class VimFaultException(string faultType, string message, string method)
    : CesoException("Vim" + faultType, KindOf(faultType), $"The host refused {method}: {message} (fault {faultType}).")
{
    /// <summary>The fault type, e.g. <c>RestrictedVersion</c>, <c>InvalidLogin</c>.</summary>
    public string FaultType { get; } = faultType;

    /// <summary>The SOAP method that faulted.</summary>
    public string Method { get; } = method;

    private static CesoErrorKind KindOf(string fault) => fault switch
    {
        "InvalidLogin" or "NoPermission" or "NotAuthenticated" => CesoErrorKind.Security,
        "RestrictedVersion" or "NotSupported" => CesoErrorKind.NotSupported,
        "ManagedObjectNotFound" or "NotFound" or "FileNotFound" => CesoErrorKind.NotFound,
        "InvalidPowerState" or "InvalidState" => CesoErrorKind.InvalidState,
        _ => CesoErrorKind.HostError,
    };
}
