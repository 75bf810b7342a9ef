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

    /// <summary>A block reader for the session's host (the path is picked, and reported, when a read starts).</summary>
    public static IDiskBlockReader ReaderFor(HostAdapter host)
    {
        ArgumentNullException.ThrowIfNull(host);
        return new ChoosingBlockReader(host);
    }
}
