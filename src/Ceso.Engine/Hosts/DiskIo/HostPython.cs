namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>
/// What one session learnt about the host's python for the disk helpers: unknown until a helper first ran, then
/// usable, or unusable with the reason (not found, refused by execInstalledOnly, not Python 3). Once unusable, the
/// session's readers and writers go straight to their fallback. Kept on the <see cref="HostAdapter"/> (one per session).
/// </summary>
internal sealed class HostPython
{
    private volatile Verdict? _verdict;

    /// <summary>Null before any helper ran; else whether the helper ran.</summary>
    public bool? Usable => _verdict?.Usable;

    /// <summary>Why python is or is not used ("" before any helper ran).</summary>
    public string Reason => _verdict?.Reason ?? "";

    /// <summary>A helper said hello: python runs it.</summary>
    public void Works() => _verdict = new Verdict(true, "the host's python runs the helper");

    /// <summary>A helper never said hello; the reason names what the host answered.</summary>
    public void Unusable(string reason) => _verdict = new Verdict(false, reason);

    private sealed record Verdict(bool Usable, string Reason);
}
