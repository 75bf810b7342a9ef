using System.Buffers.Binary;
using Ceso.Engine.Formats;
using Ceso.Engine.Ssh;

namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>
/// The host helper path of a disk write: <c>write_blocks.py</c> under the host's python opens the existing flat file
/// (never creates or truncates it), seeks and writes each block it is sent and nothing else, fsyncs, and answers with
/// the number of blocks and bytes and a SHA-256 over what it received, which must match what was sent. Throws
/// <see cref="HelperUnavailableException"/> when python did not run the script (blocks may have been taken by then).
/// </summary>
internal sealed class HelperBlockWriter(SshSession ssh, string host)
{
    public async Task WriteAsync(DatastorePath flatFile, long capacity, int blockSize, BlockSource source, IProgress<DiskIoProgress>? progress, CancellationToken ct)
    {
        var preamble = HelperScripts.Preamble(HelperScripts.Writer, new Dictionary<string, object>
        {
            ["path"] = flatFile.Vmfs, ["capacity"] = capacity, ["block"] = blockSize,
        });
        using var input = new WriterInputStream(preamble, source, progress);
        await using var helper = HelperProcess.Start(ssh, input, ct);
        if (!await HelperFrames.ReadHelloAsync(helper, ct).ConfigureAwait(false))
        {
            throw await HelperFrames.UnavailableAsync(helper).ConfigureAwait(false);
        }

        var type = new byte[1];
        if (await helper.ReadAsync(type, ct).ConfigureAwait(false) == 0)
        {
            throw await HelperFrames.EndedEarlyAsync(helper, host, flatFile, "it gave no answer after the blocks").ConfigureAwait(false);
        }

        if (type[0] == HelperFrames.Error)
        {
            throw await HelperFrames.ReadErrorAsync(helper, host, flatFile, ct).ConfigureAwait(false);
        }

        var t = new byte[HelperFrames.WriteTrailer];
        if (type[0] != HelperFrames.Trailer || await helper.ReadAsync(t, ct).ConfigureAwait(false) != t.Length)
        {
            throw HelperFrames.Protocol(host, flatFile, $"frame type {type[0]} or a short trailer where the trailer was expected");
        }

        var r = await helper.ResultAsync().ConfigureAwait(false);
        var blocks = BinaryPrimitives.ReadInt64BigEndian(t);
        var bytes = BinaryPrimitives.ReadInt64BigEndian(t.AsSpan(8));
        if (blocks != source.Blocks || bytes != source.Bytes || !t.AsSpan(16).SequenceEqual(input.Digest()))
        {
            throw HelperFrames.Protocol(host, flatFile,
                $"a trailer of {blocks} blocks and {bytes} bytes (checksum {(t.AsSpan(16).SequenceEqual(input.Digest()) ? "equal" : "different")}) where {source.Blocks} blocks and {source.Bytes} bytes were sent");
        }

        if (r is null || r.ExitCode != 0)
        {
            throw HelperFrames.Incomplete(host, flatFile, "it failed after its trailer", r);
        }

        progress?.Report(source.Progress(source.Bytes));
    }
}
