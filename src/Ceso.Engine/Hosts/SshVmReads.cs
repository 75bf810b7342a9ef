using System.Globalization;
using System.Security.Cryptography;
using Ceso.Engine.Shell;
using Ceso.Engine.Ssh;

namespace Ceso.Engine.Hosts;

/// <summary>
/// The per-VM reads of an SSH discovery (<see cref="Verbs"/> for every vmid) gathered in ONE command on the persistent
/// shell. The host runs the vim-cmd calls (a few at a time: on a real host each one costs 0.1–0.5 s, mostly vim-cmd
/// starting and logging in to hostd) and prints every call's stdout, stderr and exit code between lines that carry a
/// random marker made for that one call, so no VM's name, annotation or dump can forge a frame boundary:
/// <code>
/// \n{marker} out {vmid} {verb}\n{stdout}\n{marker} err\n{stderr}\n{marker} rc {exit code}   (per vim-cmd call, in order)
/// \n{marker} end\n                                                                            (once, last)
/// </code>
/// Two host programs print exactly this: a stdlib-only Python 3 script given to the host's own interpreter
/// (<c>python -c</c>; ESXi 7/8 ship <c>/bin/python</c>, and a script for the installed interpreter runs where
/// <c>execInstalledOnly</c> refuses any other binary), and a plain <c>/bin/sh</c> loop for hosts without a usable
/// python. Both are fixed text; the marker and the vmids reach them as arguments quoted by <see cref="ShellQuote"/>.
/// </summary>
internal static class SshVmReads
{
    /// <summary>The vim-cmd verbs read per VM, in the order the per-VM path ran them (a failure in an earlier one wins).</summary>
    public static readonly IReadOnlyList<string> Verbs = ["vmsvc/get.config", "vmsvc/get.summary", "vmsvc/get.guest", "vmsvc/get.snapshotinfo"];

    /// <summary>
    /// vim-cmd calls in flight at once on the host (Python: calls; shell: VMs, each running its four calls in turn).
    /// hostd answers reads concurrently; 8 keeps a 50-VM discovery near 4 s at 0.15 s a call without flooding hostd.
    /// </summary>
    public const int Parallel = 8;

    /// <summary>A fresh marker for one call: 128 random bits, so no text on the host can contain it beforehand.</summary>
    public static string NewMarker() => "ceso-reads-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    /// <summary>The Python path: <c>python -c SCRIPT MARKER PARALLEL VMID…</c>.</summary>
    public static string PythonCommand(string marker, IReadOnlyList<string> ids) =>
        ShellQuote.Join("python", ["-c", PythonScript, marker, Parallel.ToString(CultureInfo.InvariantCulture), .. ids]);

    /// <summary>The plain path: <c>/bin/sh -c LOOP ceso MARKER PARALLEL VMID…</c>.</summary>
    public static string ShellCommand(string marker, IReadOnlyList<string> ids) =>
        ShellQuote.Join("/bin/sh", ["-c", ShellLoop, "ceso-reads", marker, Parallel.ToString(CultureInfo.InvariantCulture), .. ids]);

    // Python 3.5+ and stdlib only (ESXi 7.0 ships 3.5 or later). Workers take calls in order; output is written in
    // call order once all are done, as raw bytes (the client decodes the whole stream once).
    internal const string PythonScript = """
        import subprocess, sys, threading
        m = sys.argv[1].encode()
        n = int(sys.argv[2])
        verbs = ("vmsvc/get.config", "vmsvc/get.summary", "vmsvc/get.guest", "vmsvc/get.snapshotinfo")
        jobs = [(i, v) for i in sys.argv[3:] for v in verbs]
        res = [None] * len(jobs)
        lock = threading.Lock()
        nxt = [0]
        def work():
            while True:
                with lock:
                    k = nxt[0]
                    nxt[0] += 1
                if k >= len(jobs):
                    return
                i, v = jobs[k]
                try:
                    p = subprocess.Popen(["vim-cmd", v, i], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                    o, e = p.communicate()
                    res[k] = (o, e, p.returncode)
                except OSError as x:
                    res[k] = (b"", str(x).encode(), 127)
        ts = [threading.Thread(target=work) for _ in range(max(1, min(n, len(jobs))))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        w = sys.stdout.buffer
        for (i, v), (o, e, rc) in zip(jobs, res):
            w.write(b"\n" + m + b" out " + i.encode() + b" " + v.encode() + b"\n" + o + b"\n" + m + b" err\n" + e + b"\n" + m + b" rc " + str(rc).encode())
        w.write(b"\n" + m + b" end\n")
        w.flush()
        """;

    // busybox ash and dash alike. $1 = marker, $2 = VMs in flight, the rest vmids. Each VM's frames go to a temp file
    // (numbered, never named after input) so parallel VMs do not interleave; the files are printed in order.
    internal const string ShellLoop = """
        m=$1; n=$2; shift 2
        t=$(mktemp -d /tmp/ceso-reads.XXXXXX) || exit 1
        trap 'rm -rf "$t"' EXIT
        k=0
        for i in "$@"; do
          k=$((k+1))
          ( for v in vmsvc/get.config vmsvc/get.summary vmsvc/get.guest vmsvc/get.snapshotinfo; do
              printf '\n%s out %s %s\n' "$m" "$i" "$v"
              vim-cmd "$v" "$i" 2>"$t/$k.err"; r=$?
              printf '\n%s err\n' "$m"; cat "$t/$k.err"
              printf '\n%s rc %s' "$m" "$r"
            done ) >"$t/$k" </dev/null &
          if [ $((k % n)) -eq 0 ]; then wait; fi
        done
        wait
        k=0
        for i in "$@"; do k=$((k+1)); cat "$t/$k"; done
        printf '\n%s end\n' "$m"
        """;

    /// <summary>
    /// Reads the framed output back into, per vmid, the results of its <see cref="Verbs"/> in order, each as the
    /// <see cref="SshResult"/> that running that vim-cmd alone on the shell would have given. Returns false (and
    /// why) when the stream is not complete: no end line, frames out of order or malformed, a vmid missing or
    /// unasked for. Text outside the frames before the first one (nothing is expected) makes it incomplete too.
    /// </summary>
    public static bool TryParse(string text, string marker, IReadOnlyList<string> ids,
        out IReadOnlyDictionary<string, IReadOnlyList<SshResult>> reads, out string why)
    {
        reads = new Dictionary<string, IReadOnlyList<SshResult>>();
        var sep = "\n" + marker + " ";
        var pieces = text.Split(sep);
        if (pieces[0].Length != 0)
        {
            why = pieces.Length == 1 ? "no frame" : "text before the first frame";
            return false;
        }

        if (pieces.Length < 2 || pieces[^1] != "end\n")
        {
            why = pieces.Length < 2 ? "no frame" : "the stream ends before its end line";
            return false;
        }

        var result = new Dictionary<string, List<SshResult>>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            result[id] = [];
        }

        var p = 1;
        for (; p + 2 < pieces.Length; p += 3)
        {
            var nl = pieces[p].IndexOf('\n', StringComparison.Ordinal);
            var header = nl < 0 ? [] : pieces[p][..nl].Split(' ');
            if (header.Length != 3 || header[0] != "out" || !result.TryGetValue(header[1], out var list)
                || list.Count >= Verbs.Count || header[2] != Verbs[list.Count]
                || !pieces[p + 1].StartsWith("err\n", StringComparison.Ordinal)
                || !pieces[p + 2].StartsWith("rc ", StringComparison.Ordinal)
                || !int.TryParse(pieces[p + 2].AsSpan(3), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var rc))
            {
                why = $"frame {(p - 1) / 3 + 1} is malformed";
                return false;
            }

            list.Add(new SshResult(ShellQuote.Join("vim-cmd", header[2], header[1]), rc, pieces[p][(nl + 1)..], pieces[p + 1][4..]));
        }

        if (p != pieces.Length - 1)
        {
            why = "a frame is cut short";
            return false;
        }

        if (result.FirstOrDefault(r => r.Value.Count != Verbs.Count) is { Key: { } missing })
        {
            why = $"vmid {missing} is missing";
            return false;
        }

        reads = result.ToDictionary(r => r.Key, r => (IReadOnlyList<SshResult>)r.Value, StringComparer.Ordinal);
        why = "";
        return true;
    }
}
