using Ceso.Engine.Formats;

namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>
/// The writer <see cref="DiskBlockIo.WriterFor"/> gives a session with SSH: the host helper when the session's
/// python runs it (asked once per session before the first block, <see cref="HostPython.ProbeAsync"/>), else one dd
/// per run of consecutive blocks.
/// </summary>
internal sealed class ChoosingBlockWriter(HostAdapter host) : IDiskBlockWriter
{
    /// <inheritdoc />
    public string PathUsed { get; private set; } = "";

    /// <inheritdoc />
    public string PathReason { get; private set; } = "";

    /// <inheritdoc />
    public async Task WriteAsync(DatastorePath flatFile, long capacity, int blockSize, IAsyncEnumerable<(long Index, ReadOnlyMemory<byte> Data)> blocks,
        IProgress<DiskIoProgress>? progress, CancellationToken ct)
    {
        BlockRules.CheckArguments(flatFile, capacity, blockSize);
        ArgumentNullException.ThrowIfNull(blocks);
        var ssh = host.Ssh ?? throw new InvalidOperationException("ChoosingBlockWriter needs an SSH session.");
        await using var source = new BlockSource(blocks, capacity, blockSize, host.Server, ct);
        if (await host.Python.ProbeAsync(ssh, ct).ConfigureAwait(false))
        {
            (PathUsed, PathReason) = (DiskBlockIo.HostHelper, host.Python.Reason);
            try
            {
                await new HelperBlockWriter(ssh, host.Server).WriteAsync(flatFile, capacity, blockSize, source, progress, ct).ConfigureAwait(false);
                return;
            }
            catch (HelperUnavailableException e) when (!source.Started)
            {
                host.Python.Unusable(e.Reason);
            }
            catch (HelperUnavailableException e)
            {
                host.Python.Unusable(e.Reason);
                throw new CesoException("DiskHelperFailed", CesoErrorKind.HostError,
                    $"The disk helper for {flatFile} on {host.Server} stopped before it started: {e.Reason}. The disk is incomplete; delete it and restore again (the next try writes with dd).", e)
                { Host = host.Server, Target = flatFile.ToString(), Command = HelperScripts.Command };
            }
        }

        (PathUsed, PathReason) = (DiskBlockIo.DdRuns, host.Python.Reason + ": one dd per run of consecutive blocks");
        await new DdBlockWriter(ssh, new SshFiles(ssh, host.Server), host.Server).WriteAsync(flatFile, capacity, source, blockSize, progress, ct).ConfigureAwait(false);
    }
}
