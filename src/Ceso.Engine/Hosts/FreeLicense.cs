
namespace Ceso.Engine.Hosts;

/// <summary>
/// What a session has learnt about its host's license: a free license (vSphere Hypervisor) answers the API's reads
/// but refuses its writes. Learnt from the first refusal and kept for the session, so every later write of the
/// session goes straight to SSH (<see cref="FallbackHostCommands"/>, <see cref="FallbackHostFiles"/> share one).
/// </summary>
public sealed class FreeLicense
{
    private volatile bool _detected;

    /// <summary>True once the host refused a write over the API in this session.</summary>
    public bool Detected => _detected;

    /// <summary>Remembers that the host refuses the API's writes.</summary>
    internal void Remember() => _detected = true;

    /// <summary>
    /// True for a host's answer that means "this license does not allow changes over the API": the fault
    /// <c>RestrictedVersion</c>, or HTTP 403 to a datastore HTTP write (<c>DatastoreWriteForbidden</c>).
    /// </summary>
    public static bool IsRefusal(Exception e) =>
        e is VimFaultException { FaultType: "RestrictedVersion" } or CesoException { ErrorId: "DatastoreWriteForbidden" };
}
