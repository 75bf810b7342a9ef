using System.Management.Automation;
using Ceso.Engine;

namespace Ceso.PowerShell;

/// <summary>
/// Turns engine failures into ErrorRecords: the ErrorId is <see cref="CesoException.ErrorId"/> (so the
/// FullyQualifiedErrorId is e.g. <c>VmNotFound,Ceso.PowerShell.Commands.GetCesoVmCommand</c>), the category follows
/// <see cref="CesoException.Kind"/>, the target object is the input, and the exception (with its inner exceptions) is kept.
/// </summary>
public static class ErrorMapper
{
    /// <summary>Errors a cmdlet reports per input: engine errors and cancellations. Anything else is a bug and propagates.</summary>
    public static bool IsEngineError(Exception e) => e is CesoException or OperationCanceledException;

    /// <summary>The ErrorCategory for an engine error kind. Every kind has its own category; none is NotSpecified.</summary>
    public static ErrorCategory CategoryOf(CesoErrorKind kind) => kind switch
    {
        CesoErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        CesoErrorKind.NotFound => ErrorCategory.ObjectNotFound,
        CesoErrorKind.Security => ErrorCategory.SecurityError,
        CesoErrorKind.Connection => ErrorCategory.ConnectionError,
        CesoErrorKind.HostError => ErrorCategory.InvalidResult,
        CesoErrorKind.InvalidState => ErrorCategory.InvalidOperation,
        CesoErrorKind.Cancelled => ErrorCategory.OperationStopped,
        CesoErrorKind.NotSupported => ErrorCategory.NotEnabled,
        // A kind added to the engine without a mapping here still must not read as NotSpecified.
        _ => ErrorCategory.InvalidResult,
    };

    /// <summary>
    /// The ErrorRecord for a failure. <paramref name="target"/> is the input the cmdlet was working on; when null,
    /// the engine's own <see cref="CesoException.Target"/> is used.
    /// </summary>
    public static ErrorRecord ToErrorRecord(Exception e, object? target)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e switch
        {
            CesoException ce => new ErrorRecord(ce, ce.ErrorId, CategoryOf(ce.Kind), target ?? ce.Target),
            OperationCanceledException => new ErrorRecord(e, "OperationStopped", ErrorCategory.OperationStopped, target),
            _ => new ErrorRecord(e, e.GetType().Name, ErrorCategory.NotSpecified, target),
        };
    }
}
