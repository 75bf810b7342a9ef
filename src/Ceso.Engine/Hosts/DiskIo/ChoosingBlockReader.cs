using System.Runtime.CompilerServices;
using Ceso.Engine.Backup;
using Ceso.Engine.Formats;

namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>
/// The reader <see cref="DiskBlockIo.ReaderFor"/> gives: the host helper while the session's python runs it, else
/// the plain stream. The switch happens before the first block (the helper says hello before it reads the disk), so
/// a fallback never repeats or skips a block; the verdict is kept for the session.
/// </summary>
internal sealed class ChoosingBlockReader(HostAdapter host) : IDiskBlockReader
{
    /// <inheritdoc />
    public string PathUsed { get; private set; } = "";

    /// <inheritdoc />
    public string PathReason { get; private set; } = "";

    /// <inheritdoc />
    public async IAsyncEnumerable<DiskBlock> ReadAsync(DatastorePath flatFile, long capacity, int blockSize, IReadOnlySet<BlockHash> known,
        IProgress<DiskIoProgress>? progress, [EnumeratorCancellation] CancellationToken ct)
    {
        if (host.Ssh is { } ssh && host.Python.Usable != false)
        {
            var helper = new HelperBlockReader(ssh, host.Server).ReadAsync(flatFile, capacity, blockSize, known, progress, ct).GetAsyncEnumerator(ct);
            bool more;
            try
            {
                more = await helper.MoveNextAsync().ConfigureAwait(false);
            }
            catch (HelperUnavailableException e)
            {
                await helper.DisposeAsync().ConfigureAwait(false);
                host.Python.Unusable(e.Reason);
                helper = null;
                more = false;
            }
            catch
            {
                await helper.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            if (helper is not null)
            {
                host.Python.Works();
                (PathUsed, PathReason) = (DiskBlockIo.HostHelper, host.Python.Reason);
                try
                {
                    while (more)
                    {
                        yield return helper.Current;
                        more = await helper.MoveNextAsync().ConfigureAwait(false);
                    }
                }
                finally
                {
                    await helper.DisposeAsync().ConfigureAwait(false);
                }

                yield break;
            }
        }

        (PathUsed, PathReason) = (DiskBlockIo.PlainStream, host.Ssh is null
            ? $"the session has no SSH: the whole disk is read through {host.Files.Transport} file reads"
            : host.Python.Reason + ": the whole disk is read through " + host.Files.Transport + " file reads");
        await foreach (var block in new PlainBlockReader(host.Files, host.Server).ReadAsync(flatFile, capacity, blockSize, known, progress, ct).ConfigureAwait(false))
        {
            yield return block;
        }
    }
}
