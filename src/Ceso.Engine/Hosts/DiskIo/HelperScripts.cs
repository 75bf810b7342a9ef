using System.Globalization;
using System.Text;
using System.Text.Json;
using Ceso.Engine.Shell;

namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>
/// The host helpers: stdlib-only Python 3.6+ scripts (<c>read_blocks.py</c>, <c>write_blocks.py</c>, embedded in the
/// engine) that the host's own interpreter runs. ESXi 8 runs only VIB-signed binaries (execInstalledOnly), but the
/// installed <c>/bin/python</c> runs any script it is given. The command line is one fixed bootstrap; the script, the
/// parameters (the file path) and the data all go on stdin, never into arguments (which the host's process list and
/// shell history would show).
/// </summary>
internal static class HelperScripts
{
    /// <summary>
    /// Reads a length line and that many bytes of script from stdin and runs them; the rest of stdin is the script's.
    /// "ceso-diskio" names the code in tracebacks and in the host's process list.
    /// </summary>
    public const string Bootstrap = "import sys;i=sys.stdin.buffer;exec(compile(i.read(int(i.readline())),\"ceso-diskio\",\"exec\"))";

    /// <summary>The command the bulk ssh process runs: <c>python -c BOOTSTRAP</c>, quoted by ShellQuote.</summary>
    public static string Command { get; } = ShellQuote.Join("python", "-c", Bootstrap);

    /// <summary>The block reader script.</summary>
    public static byte[] Reader { get; } = Load("read_blocks.py");

    /// <summary>The block writer script.</summary>
    public static byte[] Writer { get; } = Load("write_blocks.py");

    /// <summary>What goes first on stdin: the script's length line, the script, one JSON line of parameters.</summary>
    public static byte[] Preamble(byte[] script, IReadOnlyDictionary<string, object> parameters)
    {
        var head = Encoding.ASCII.GetBytes(script.Length.ToString(CultureInfo.InvariantCulture) + "\n");
        var json = JsonSerializer.SerializeToUtf8Bytes(parameters);
        var all = new byte[head.Length + script.Length + json.Length + 1];
        head.CopyTo(all, 0);
        script.CopyTo(all, head.Length);
        json.CopyTo(all, head.Length + script.Length);
        all[^1] = (byte)'\n';
        return all;
    }

    private static byte[] Load(string name)
    {
        using var s = typeof(HelperScripts).Assembly.GetManifestResourceStream("Ceso.Engine.Hosts.DiskIo." + name)
            ?? throw new InvalidOperationException($"The engine lacks its embedded host helper '{name}'; rebuild Ceso.Engine.");
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }
}
