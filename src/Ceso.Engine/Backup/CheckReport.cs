namespace Ceso.Engine.Backup;

/// <summary>What <see cref="BackupRepository.CheckAsync"/> does.</summary>
public sealed record CheckOptions
{
    /// <summary>Also read every pack (or a subset), decrypt and hash every blob.</summary>
    public bool ReadData { get; init; }

    /// <summary>
    /// With <see cref="ReadData"/>, which packs to read: null for all; <c>"n/m"</c> for the n-th of m parts (by the
    /// pack name's first byte, so m runs with n = 1..m read every pack once); <c>"p%"</c> for a random p percent.
    /// </summary>
    public string? ReadDataSubset { get; init; }
}

/// <summary>How bad a problem is.</summary>
public enum CheckSeverity
{
    /// <summary>Nothing is lost (an unindexed pack left by an interrupted backup; prune removes it).</summary>
    Warning,
    /// <summary>Data is missing or damaged: the named snapshots cannot be fully restored.</summary>
    Error,
}

/// <summary>One problem the check found.</summary>
/// <param name="Severity">Error or warning.</param>
/// <param name="Code">A stable code: <c>KeyDamaged</c>, <c>IndexDamaged</c>, <c>SnapshotDamaged</c>, <c>BlobMissing</c>, <c>PackMissing</c>, <c>PackSize</c>, <c>PackUnindexed</c>, <c>PackDamaged</c>, <c>BlobDamaged</c>.</param>
/// <param name="Message">What is wrong, naming the file or blob.</param>
/// <param name="File">The repository file concerned, when one is.</param>
/// <param name="Snapshots">The ids of the snapshots affected.</param>
/// <param name="Disks">The disks (and files) affected, as <c>shortid:disk name</c>.</param>
public sealed record CheckProblem(CheckSeverity Severity, string Code, string Message, string? File, IReadOnlyList<string> Snapshots, IReadOnlyList<string> Disks);

/// <summary>Progress of a check: a phase and how far it is.</summary>
/// <param name="Phase">structure or data.</param>
/// <param name="Done">Items done.</param>
/// <param name="Total">Items in the phase.</param>
public sealed record CheckProgress(string Phase, long Done, long Total);

/// <summary>The outcome of a check.</summary>
/// <param name="Problems">Everything found.</param>
/// <param name="Snapshots">Snapshots looked at.</param>
/// <param name="Packs">Packs in the index.</param>
/// <param name="PacksRead">Packs read with ReadData.</param>
/// <param name="BlobsRead">Blobs decrypted and hashed.</param>
public sealed record CheckReport(IReadOnlyList<CheckProblem> Problems, int Snapshots, int Packs, int PacksRead, long BlobsRead)
{
    /// <summary>True when there is no error (warnings allowed).</summary>
    public bool Ok => Problems.All(p => p.Severity == CheckSeverity.Warning);
}
