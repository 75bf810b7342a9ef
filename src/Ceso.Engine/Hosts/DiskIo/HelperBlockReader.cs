using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Ceso.Engine.Backup;
using Ceso.Engine.Formats;
using Ceso.Engine.Ssh;

namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>
/// The host helper path of a disk read: <c>read_blocks.py</c> under the host's python reads the flat file, skips
/// holes (SEEK_DATA/SEEK_HOLE where the file system answers them) and all-zero blocks, hashes each block and sends
/// only blocks whose hash is not known. Every frame is checked against the disk's geometry; each data block's hash is
/// checked here too (the repository keys blocks by it). Throws <see cref="HelperUnavailableException"/> before the
/// first block when python did not run the script, so that the caller can fall back.
/// </summary>
internal sealed class HelperBlockReader(SshSession ssh, string host)
{
    public async IAsyncEnumerable<DiskBlock> ReadAsync(DatastorePath flatFile, long capacity, int blockSize, IReadOnlySet<BlockHash> known,
        IProgress<DiskIoProgress>? progress, [EnumeratorCancellation] CancellationToken ct)
    {
        BlockRules.CheckArguments(flatFile, capacity, blockSize);
        ArgumentNullException.ThrowIfNull(known);
        var preamble = HelperScripts.Preamble(HelperScripts.Reader, new Dictionary<string, object>
        {
            ["path"] = flatFile.Vmfs, ["capacity"] = capacity, ["block"] = blockSize, ["known"] = known.Count,
        });
        using var input = new ReaderInputStream(preamble, known);
        await using var helper = HelperProcess.Start(ssh, input, ct);
        if (!await HelperFrames.ReadHelloAsync(helper, ct).ConfigureAwait(false))
        {
            throw await HelperFrames.UnavailableAsync(helper).ConfigureAwait(false);
        }

        var blocks = BlockRules.Count(capacity, blockSize);
        var header = new byte[HelperFrames.BlockHeader];
        var data = ArrayPool<byte>.Shared.Rent(blockSize);
        long next = 0, sent = 0, knownCount = 0, scanned = 0;
        try
        {
            while (true)
            {
                var type = await ReadTypeAsync(helper, header, flatFile, ct).ConfigureAwait(false);
                if (type is HelperFrames.Block or HelperFrames.Known)
                {
                    await ReadExactAsync(helper, header, flatFile, ct).ConfigureAwait(false);
                    var index = BinaryPrimitives.ReadInt64BigEndian(header);
                    var hash = BlockHash.FromBytes(header.AsSpan(8, BlockHash.Size));
                    var length = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(40));
                    if (index < next || index >= blocks || length != BlockRules.Length(index, capacity, blockSize))
                    {
                        throw HelperFrames.Protocol(host, flatFile, $"block {index} of {length} bytes after block {next - 1} (the disk has {blocks} blocks of {blockSize})");
                    }

                    next = index + 1;
                    scanned = Math.Min(capacity, next * blockSize);
                    ReadOnlyMemory<byte>? payload = null;
                    if (type == HelperFrames.Known)
                    {
                        if (!known.Contains(hash))
                        {
                            throw HelperFrames.Protocol(host, flatFile, $"block {index} as known with hash {hash}, which is not in the known set");
                        }

                        knownCount++;
                    }
                    else
                    {
                        var memory = data.AsMemory(0, length);
                        await ReadExactAsync(helper, memory, flatFile, ct).ConfigureAwait(false);
                        if (BlockHash.Of(memory.Span) != hash)
                        {
                            throw HelperFrames.Protocol(host, flatFile, $"block {index} with a hash that does not match its bytes");
                        }

                        sent++;
                        payload = memory;
                    }

                    progress?.Report(new DiskIoProgress(scanned, helper.Received, BlockRules.Zeros(scanned, blockSize, sent, knownCount), knownCount, sent));
                    yield return new DiskBlock(index, hash, payload);
                }
                else if (type == HelperFrames.Progress)
                {
                    await ReadExactAsync(helper, header.AsMemory(0, 8), flatFile, ct).ConfigureAwait(false);
                    var at = BinaryPrimitives.ReadInt64BigEndian(header);
                    if (at < scanned || at > capacity)
                    {
                        throw HelperFrames.Protocol(host, flatFile, $"progress at byte {at} after byte {scanned}");
                    }

                    scanned = at;
                    next = Math.Max(next, BlockRules.Count(at, blockSize));
                    progress?.Report(new DiskIoProgress(scanned, helper.Received, BlockRules.Zeros(scanned, blockSize, sent, knownCount), knownCount, sent));
                }
                else if (type == HelperFrames.Trailer)
                {
                    var trailer = new byte[HelperFrames.ReadTrailer];
                    await ReadExactAsync(helper, trailer, flatFile, ct).ConfigureAwait(false);
                    await CheckTrailerAsync(helper, trailer, flatFile, capacity, blockSize, sent, knownCount).ConfigureAwait(false);
                    progress?.Report(new DiskIoProgress(capacity, helper.Received, BlockRules.Zeros(capacity, blockSize, sent, knownCount), knownCount, sent));
                    yield break;
                }
                else if (type == HelperFrames.Error)
                {
                    throw await HelperFrames.ReadErrorAsync(helper, host, flatFile, ct).ConfigureAwait(false);
                }
                else
                {
                    throw HelperFrames.Protocol(host, flatFile, $"an unknown frame type {type}");
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(data);
        }
    }

    private async Task CheckTrailerAsync(HelperProcess helper, byte[] t, DatastorePath flatFile, long capacity, int blockSize, long sent, long known)
    {
        var hostSent = BinaryPrimitives.ReadInt64BigEndian(t);
        var hostKnown = BinaryPrimitives.ReadInt64BigEndian(t.AsSpan(8));
        var hostZero = BinaryPrimitives.ReadInt64BigEndian(t.AsSpan(16));
        var hostScanned = BinaryPrimitives.ReadInt64BigEndian(t.AsSpan(24));
        if (hostSent != sent || hostKnown != known || hostScanned != capacity || hostSent + hostKnown + hostZero != BlockRules.Count(capacity, blockSize))
        {
            throw HelperFrames.Protocol(host, flatFile,
                $"a trailer of {hostSent} sent, {hostKnown} known, {hostZero} zero blocks and {hostScanned} bytes where {sent} sent and {known} known blocks of {capacity} bytes arrived");
        }

        if (await helper.ReadAsync(new byte[1], CancellationToken.None).ConfigureAwait(false) != 0)
        {
            throw HelperFrames.Protocol(host, flatFile, "bytes after its trailer");
        }

        var r = await helper.ResultAsync().ConfigureAwait(false);
        if (r is null || r.ExitCode != 0)
        {
            throw HelperFrames.Incomplete(host, flatFile, "it failed after its trailer", r);
        }
    }

    private async Task<byte> ReadTypeAsync(HelperProcess helper, byte[] b, DatastorePath flatFile, CancellationToken ct)
    {
        if (await helper.ReadAsync(b.AsMemory(0, 1), ct).ConfigureAwait(false) == 0)
        {
            throw await HelperFrames.EndedEarlyAsync(helper, host, flatFile, "the stream ended without its trailer").ConfigureAwait(false);
        }

        return b[0];
    }

    private async Task ReadExactAsync(HelperProcess helper, Memory<byte> into, DatastorePath flatFile, CancellationToken ct)
    {
        if (await helper.ReadAsync(into, ct).ConfigureAwait(false) != into.Length)
        {
            throw await HelperFrames.EndedEarlyAsync(helper, host, flatFile, "the stream ended inside a frame").ConfigureAwait(false);
        }
    }
}
