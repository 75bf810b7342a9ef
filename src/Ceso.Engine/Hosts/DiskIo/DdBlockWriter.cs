using System.Globalization;
using System.Text.RegularExpressions;
using Ceso.Engine.Formats;
using Ceso.Engine.Shell;
using Ceso.Engine.Ssh;

namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>
/// The write path over SSH without python: one <c>dd of=FLAT bs=BS seek=N conv=notrunc</c> per run of consecutive
/// blocks, the run's bytes on its stdin (a bulk ssh process each). dd seeks to the run's first block and writes
/// only the bytes it reads, so the regions between runs stay holes; <c>conv=notrunc</c> keeps the file's size. No
/// <c>count=</c>: reads from a pipe may be short, and busybox dd has no <c>iflag=fullblock</c> on every ESXi; the run
/// ends where its stdin ends. Each run costs one SSH handshake (~0.3 s), so scattered data is slow on this path.
/// </summary>
internal sealed partial class DdBlockWriter(SshSession ssh, IHostFiles sshFiles, string host)
{
    public async Task WriteAsync(DatastorePath flatFile, long capacity, BlockSource source, int blockSize, IProgress<DiskIoProgress>? progress, CancellationToken ct)
    {
        var size = (await sshFiles.StatAsync(flatFile, ct).ConfigureAwait(false)).Size;
        if (size != capacity)
        {
            throw BlockRules.SizeMismatch(host, flatFile, size, capacity);
        }

        while (await source.PeekAsync().ConfigureAwait(false) is { } first)
        {
            var command = Command(flatFile, blockSize, first.Index);
            var run = new RunStream(source);
            var r = await ssh.StreamAsync(command, run, null, ct).ConfigureAwait(false);
            if (r.ExitCode != 0)
            {
                var why = r.Stderr.Trim().Length > 0 ? r.Stderr.Trim() : $"exit code {r.ExitCode}";
                var full = why.Contains("No space left", StringComparison.OrdinalIgnoreCase);
                throw new CesoException(full ? "DatastoreFull" : "DiskWriteFailed", CesoErrorKind.HostError,
                    $"Writing blocks {first.Index}… of {flatFile} on {host} failed ('{command}': {why}). The disk is incomplete; delete it and restore again" +
                    (full ? " after freeing space on the datastore." : "."))
                { Host = host, Command = command, Target = flatFile.ToString() };
            }

            // GNU and busybox dd end with "N bytes … copied"; where it is printed, it must be the run's length.
            if (BytesCopied().Match(r.Stderr) is { Success: true } m
                && long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) != run.Sent)
            {
                throw new CesoException("DiskWriteIncomplete", CesoErrorKind.HostError,
                    $"'{command}' on {host} copied {m.Groups[1].Value} bytes where {run.Sent} were sent. The disk is incomplete; delete it and restore again.")
                { Host = host, Command = command, Target = flatFile.ToString() };
            }

            progress?.Report(source.Progress(source.Bytes));
        }
    }

    /// <summary>The dd of one run starting at block <paramref name="first"/>.</summary>
    internal static string Command(DatastorePath flatFile, int blockSize, long first) =>
        ShellCommandLine.Of("dd", "of=" + flatFile.Vmfs, "bs=" + blockSize.ToString(CultureInfo.InvariantCulture),
            "seek=" + first.ToString(CultureInfo.InvariantCulture), "conv=notrunc").ToString();

    [GeneratedRegex(@"(\d+) bytes")]
    private static partial Regex BytesCopied();

    // One run's stdin: the blocks while each one follows the last; ends before a block that does not.
    private sealed class RunStream(BlockSource source) : ReadOnlyTransferStream
    {
        private ReadOnlyMemory<byte> _pending;
        private long _last = -1;

        public long Sent { get; private set; }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_pending.Length == 0)
            {
                if (await source.PeekAsync().ConfigureAwait(false) is not { } next || (_last >= 0 && next.Index != _last + 1))
                {
                    return 0;
                }

                var b = source.Take();
                (_last, _pending) = (b.Index, b.Data);
            }

            var k = Math.Min(buffer.Length, _pending.Length);
            _pending[..k].CopyTo(buffer);
            _pending = _pending[k..];
            Sent += k;
            return k;
        }
    }
}
