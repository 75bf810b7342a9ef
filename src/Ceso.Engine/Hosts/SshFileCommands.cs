using System.Globalization;
using Ceso.Engine.Formats;
using Ceso.Engine.Shell;

namespace Ceso.Engine.Hosts;

/// <summary>
/// The shell text of <see cref="SshFiles"/>, in one place, built only with <see cref="ShellCommandLine"/> (quoted
/// words and its fixed operators), never by concatenation. Only POSIX sh and tools that ESXi's busybox has (<c>test</c>, <c>stat -c</c>, <c>cat</c>,
/// <c>dd bs= skip= count=</c>, <c>head -c</c>, <c>tail -c +N</c>, <c>mv -f</c>, <c>rm -f</c>); no GNU-only flags
/// such as dd's <c>iflag=skip_bytes,count_bytes</c>.
/// </summary>
internal static class SshFileCommands
{
    /// <summary>The dd block size of ranged reads: the middle of a range moves in whole blocks of this size.</summary>
    public const long Block = 1 << 20;

    public static string Exists(DatastorePath path) => ShellQuote.Join("test", "-e", path.Vmfs);

    /// <summary>Prints the size; exit 3 when the path does not exist (so that "not found" is told from a failing stat).</summary>
    public static string Stat(DatastorePath path) =>
        ShellCommandLine.Of("test", "-e", path.Vmfs).Or("exit", "3").Then("stat", "-c", "%s", path.Vmfs).ToString();

    public static string Cat(DatastorePath path) => ShellQuote.Join("cat", path.Vmfs);

    public static string Remove(DatastorePath path) => ShellQuote.Join("rm", "-f", path.Vmfs);

    /// <summary>Writes <paramref name="bytes"/> (a small file) into the temporary file with the shell's printf builtin.</summary>
    public static string PrintBytes(ReadOnlySpan<byte> bytes, DatastorePath temp)
    {
        // Letters and digits as they are, every other byte as a 3-digit octal escape (so '%', '\\' and NUL are data, not
        // format); ash's and bash's printf builtins both write the bytes exactly.
        var format = new System.Text.StringBuilder(bytes.Length * 4);
        foreach (var b in bytes)
        {
            if (char.IsAsciiLetterOrDigit((char)b))
            {
                format.Append((char)b);
            }
            else
            {
                format.Append('\\').Append((char)('0' + (b >> 6))).Append((char)('0' + ((b >> 3) & 7))).Append((char)('0' + (b & 7)));
            }
        }

        return ShellCommandLine.Of("printf", format.ToString()).WriteTo(temp.Vmfs).ToString();
    }

    /// <summary>Streams stdin into the temporary file (the bulk connection).</summary>
    public static string Receive(DatastorePath temp) => ShellCommandLine.Of("cat").WriteTo(temp.Vmfs).ToString();

    /// <summary>
    /// Moves the temporary file over the target when it has the expected size (on the shared shell, after the stream
    /// ended well): the commit of a write. Exit 4 when the size differs (busybox grep -qx: the whole line must match).
    /// </summary>
    public static string Commit(DatastorePath temp, DatastorePath target, long? expected) => (expected is { } n
            ? ShellCommandLine.Of("stat", "-c", "%s", temp.Vmfs).Pipe("grep", "-qx", Num(n)).Or("exit", "4").Then("mv", "-f", temp.Vmfs, target.Vmfs)
            : ShellCommandLine.Of("mv", "-f", temp.Vmfs, target.Vmfs)).ToString();

    /// <summary>
    /// The bytes <c>[start, end)</c> of a file whose size is <paramref name="size"/> (the caller clamped the range).
    /// Whole 1 MiB blocks are read by one <c>dd bs=1M skip=N count=M</c> (dd seeks to the offset; no byte before it
    /// is read). An unaligned head or tail lies inside one block: that block is read by dd and cut with
    /// <c>tail -c +K</c> / <c>head -c L</c> on the pipe, so at most two extra MiB pass through the host's pipes
    /// whatever the offset. A range that is aligned (or ends at the end of the file) is a single dd.
    /// </summary>
    public static string RangedRead(DatastorePath path, long start, long end, long size)
    {
        if (start == 0 && end == size)
        {
            return Cat(path);
        }

        var file = path.Vmfs;
        var parts = new List<ShellCommandLine>();
        var firstFull = (start + Block - 1) / Block; // first block that starts at or after start
        var lastFull = end == size ? (size + Block - 1) / Block : end / Block; // blocks [firstFull, lastFull) lie wholly in the range (or run to the end)
        if (start % Block != 0)
        {
            // head: inside block start/Block
            var headEnd = Math.Min(end, firstFull * Block);
            var head = Dd(file, start / Block, 1).Pipe("tail", "-c", "+" + Num(start % Block + 1));
            if (headEnd < Math.Min(size, firstFull * Block))
            {
                head = head.Pipe("head", "-c", Num(headEnd - start));
            }

            parts.Add(head);
            if (headEnd == end)
            {
                return Sequence(parts);
            }
        }

        if (lastFull > firstFull)
        {
            parts.Add(Dd(file, firstFull, end == size ? null : lastFull - firstFull));
        }

        if (end != size && end % Block != 0 && end / Block >= firstFull)
        {
            // tail: the start of block end/Block
            parts.Add(Dd(file, end / Block, 1).Pipe("head", "-c", Num(end % Block)));
        }

        return Sequence(parts);
    }

    // dd's statistics go to /dev/null (busybox dd has no status=none everywhere).
    private static ShellCommandLine Dd(string file, long skip, long? count)
    {
        var args = new List<string> { "if=" + file, "bs=" + Num(Block), "skip=" + Num(skip) };
        if (count is { } c)
        {
            args.Add("count=" + Num(c));
        }

        return ShellCommandLine.Of("dd", [.. args]).DiscardErrors();
    }

    // Pipelines bind tighter than &&: each part runs only when the one before it succeeded, in order.
    private static string Sequence(List<ShellCommandLine> parts) => parts.Skip(1).Aggregate(parts[0], (line, next) => line.And(next)).ToString();

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);
}
