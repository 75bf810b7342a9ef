namespace Ceso.Engine.Backup;

/// <summary>How a VM was backed up: powered off (Cold) or running, through a snapshot (Hot).</summary>
public enum BackupMode
{
    /// <summary>The VM was powered off.</summary>
    Cold,
    /// <summary>The VM ran; its base disks were read behind a VM snapshot.</summary>
    Hot,
}

/// <summary>What the caller knows about a backup before it starts (<see cref="BackupRepository.BeginBackupAsync"/>).</summary>
/// <param name="VmName">The VM's name on the host.</param>
/// <param name="VmId">A stable id of the VM (its BIOS UUID): retention and <see cref="BackupRepository.KnownHashesAsync"/> group by it.</param>
/// <param name="Host">The ESXi host the VM was read from.</param>
/// <param name="Mode">Cold or hot.</param>
/// <param name="Tags">Free-form tags (may be empty).</param>
/// <param name="VmxText">The .vmx text at backup time, kept inside the encrypted manifest.</param>
public sealed record SnapshotHeader(string VmName, string VmId, string Host, BackupMode Mode, IReadOnlyList<string> Tags, string? VmxText)
{
    /// <summary>The machine that ran the backup; when null, <see cref="BackupRepository.BeginBackupAsync"/> records this machine's name.</summary>
    public string? ClientHost { get; init; }

    /// <summary>The user that ran the backup; when null, <see cref="BackupRepository.BeginBackupAsync"/> records the current user.</summary>
    public string? ClientUser { get; init; }
}

/// <summary>One non-zero block of a backed-up disk: its index (offset = index × block size) and its plaintext hash.</summary>
public readonly record struct BlockRef(long Index, BlockHash Hash);

/// <summary>A small file of the VM kept whole as one blob (.vmx, .nvram, .vmsd).</summary>
/// <param name="Name">The file name as given to <see cref="BackupWriter.AddFileAsync"/>.</param>
/// <param name="Size">Its length in bytes.</param>
/// <param name="Hash">The SHA-256 of its bytes (its blob id derives from it).</param>
public sealed record SnapshotFile(string Name, long Size, BlockHash Hash);

/// <summary>One disk of a snapshot; blocks not listed are all zeros.</summary>
/// <param name="Name">The disk's datastore path, e.g. <c>[datastore1] vm01/vm01.vmdk</c>.</param>
/// <param name="Capacity">The disk's size in bytes.</param>
/// <param name="BlockSize">The block size the disk was cut in.</param>
/// <param name="Blocks">The non-zero blocks in ascending index order.</param>
public sealed record SnapshotDisk(string Name, long Capacity, int BlockSize, IReadOnlyList<BlockRef> Blocks)
{
    /// <summary>The length of block <paramref name="index"/> (the last one may be short).</summary>
    public int LengthOf(long index) => (int)Math.Min(BlockSize, Capacity - index * BlockSize);
}

/// <summary>Counts of one backup, for progress while it runs and in its manifest once committed.</summary>
/// <param name="BytesRead">Bytes of non-zero blocks and files the backup covers (sent or skipped by the host).</param>
/// <param name="BytesReceived">Bytes the host actually sent.</param>
/// <param name="Blocks">Non-zero blocks and files covered.</param>
/// <param name="NewBlobs">Blobs this backup added to the repository.</param>
/// <param name="NewBytesStored">Bytes those blobs take in packs (compressed and sealed).</param>
public sealed record BackupStatistics(long BytesRead, long BytesReceived, long Blocks, long NewBlobs, long NewBytesStored);

/// <summary>A whole snapshot manifest (<see cref="BackupRepository.LoadSnapshotAsync"/>).</summary>
public sealed record SnapshotManifest
{
    /// <summary>The snapshot id: the SHA-256 of its manifest file, 64 hex digits.</summary>
    public required string Id { get; init; }

    /// <summary>When the backup started (UTC).</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>The header the backup was begun with.</summary>
    public required SnapshotHeader Header { get; init; }

    /// <summary>The VM's small files.</summary>
    public required IReadOnlyList<SnapshotFile> Files { get; init; }

    /// <summary>The disks, in the order they were added.</summary>
    public required IReadOnlyList<SnapshotDisk> Disks { get; init; }

    /// <summary>The backup's counts.</summary>
    public required BackupStatistics Statistics { get; init; }

    /// <summary>The summary of this manifest.</summary>
    public BackupSnapshot ToSummary() => new(Id, Time, Header.VmName, Header.VmId, Header.Host, Header.Mode, Header.Tags,
        Disks.Count, Disks.Sum(d => d.Capacity), Statistics.NewBytesStored, Header.ClientHost ?? "");
}

/// <summary>One snapshot in a listing (<see cref="BackupRepository.ListSnapshotsAsync"/>) and in the catalog.</summary>
/// <param name="Id">The full id (64 hex digits).</param>
/// <param name="Time">When the backup started (UTC).</param>
/// <param name="VmName">The VM's name.</param>
/// <param name="VmId">The VM's stable id.</param>
/// <param name="Host">The host it came from.</param>
/// <param name="Mode">Cold or hot.</param>
/// <param name="Tags">Its tags.</param>
/// <param name="DiskCount">How many disks it holds.</param>
/// <param name="LogicalSize">The sum of its disks' capacities.</param>
/// <param name="DataAdded">Bytes its backup added to the repository.</param>
/// <param name="ClientHost">The machine that ran the backup.</param>
public sealed record BackupSnapshot(string Id, DateTimeOffset Time, string VmName, string VmId, string Host, BackupMode Mode,
    IReadOnlyList<string> Tags, int DiskCount, long LogicalSize, long DataAdded, string ClientHost)
{
    /// <summary>The first 8 hex digits, a name that <see cref="BackupRepository.LoadSnapshotAsync"/> accepts while it is unique.</summary>
    public string ShortId => Id[..8];
}
