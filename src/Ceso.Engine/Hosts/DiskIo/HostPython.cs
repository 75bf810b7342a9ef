using Ceso.Engine.Shell;
using Ceso.Engine.Ssh;

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

    /// <summary>
    /// Asks the host once, on the session's shell, whether its python runs a Python 3 script with the modules the
    /// helpers use (a few ms; the reader learns it from the helper's hello instead, the writer must know before it
    /// sends the first block). Keeps and returns the verdict; a verdict already known is not asked again.
    /// </summary>
    public async Task<bool> ProbeAsync(SshSession ssh, CancellationToken ct)
    {
        if (Usable is { } known)
        {
            return known;
        }

        var r = await ssh.RunAsync(Probe, ct).ConfigureAwait(false);
        if (r.ExitCode == 0 && r.Stdout.Contains(ProbeAnswer, StringComparison.Ordinal))
        {
            Works();
            return true;
        }

        var why = r.ExitCode switch
        {
            127 => "python was not found on the host",
            126 => "the host refused to run python (execInstalledOnly?)",
            _ => "python did not run the helper (not Python 3?)",
        };
        Unusable($"{why} (exit code {r.ExitCode}{(r.Stderr.Trim().Length > 0 ? ": " + r.Stderr.Trim() : "")})");
        return false;
    }

    private const string ProbeAnswer = "ceso-diskio python ok";

    private static readonly string Probe = ShellQuote.Join("python", "-c",
        "import sys,errno,hashlib,json,os,struct;sys.stdout.write(\"" + ProbeAnswer + "\\n\" if sys.version_info[0] == 3 else \"\")");

    private sealed record Verdict(bool Usable, string Reason);
}
