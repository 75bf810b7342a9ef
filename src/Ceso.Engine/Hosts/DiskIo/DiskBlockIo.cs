namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>
/// Picks how a session reads and writes VM disks block by block (the host side of backup and restore). With SSH and
/// a python on the host that runs stdlib-only scripts (ESXi 7/8's <c>/bin/python</c>; ESXi 8's execInstalledOnly
/// refuses shipped binaries but not a script piped to the installed interpreter): the host helpers, which skip holes
/// and zero blocks on the host and send only new blocks. Without them: a plain stream of the whole disk for reads,
/// one <c>dd … conv=notrunc</c> per run of consecutive blocks for writes, and for an API-only session a whole-file
/// datastore HTTP PUT (which cannot keep a disk thin; only when asked for). Whether python works is learnt on the
/// first helper run and kept for the session.
/// </summary>
public static class DiskBlockIo
{
    /// <summary>The path of a read or write through the python helper on the host.</summary>
    public const string HostHelper = "host-helper";

    /// <summary>The read path that streams the whole flat file and cuts and hashes it here.</summary>
    public const string PlainStream = "plain-stream";

    /// <summary>The write path of one <c>dd of=FLAT bs=BS seek=N conv=notrunc</c> per run of consecutive blocks.</summary>
    public const string DdRuns = "dd";

    /// <summary>The write path of an API-only session: the whole flat file through a datastore HTTP PUT (the disk ends up fully allocated).</summary>
    public const string WholeFileHttp = "http-whole-file";

    /// <summary>A block reader for the session's host (the path is picked, and reported, when a read starts).</summary>
    public static IDiskBlockReader ReaderFor(HostAdapter host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return new ChoosingBlockReader(host);
    }

    /// <summary>
    /// A block writer for the session's host. Over SSH the restored disk stays thin (the helper, or dd without
    /// python). An API-only session can only PUT whole files: the disk's zeros are written too, so it is no longer
    /// thin and every byte of the capacity crosses the wire — allowed only with <paramref name="allowWholeFileOverHttp"/>,
    /// else <c>DiskWriteNeedsSsh</c>.
    /// </summary>
    public static IDiskBlockWriter WriterFor(HostAdapter host, bool allowWholeFileOverHttp = false)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (host.Ssh is not null)
        {
            return new ChoosingBlockWriter(host);
        }

        if (!allowWholeFileOverHttp)
        {
            throw new CesoException("DiskWriteNeedsSsh", CesoErrorKind.NotSupported,
                $"Restoring a disk block by block on {host.Server} needs SSH: the API can only upload whole files (datastore HTTP PUT), " +
                "which writes the disk's zeros too so the disk is no longer thin. Connect with SSH as well, or allow a whole-file upload.")
            { Host = host.Server };
        }

        return new WholeFileHttpWriter(host.Files, host.Server);
    }
}
