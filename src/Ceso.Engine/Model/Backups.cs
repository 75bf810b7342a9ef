namespace Ceso.Engine.Model;

/// <summary>A backup repository as Get-CesoBackup, New-CesoBackupRepository and Test-CesoBackup show it.</summary>
public sealed record CesoBackupRepository
{
    /// <summary>Its name in config.yaml, or null for a repository given by path.</summary>
    public string? Name { get; init; }

    /// <summary>Where it is (a directory).</summary>
    public required string Location { get; init; }

    /// <summary>The repository id (64 hex digits).</summary>
    public required string Id { get; init; }

    /// <summary>Whether data is encrypted (AES-256-GCM under a password-wrapped key).</summary>
    public bool Encrypted { get; init; }

    /// <summary>The fixed block size disks are cut into.</summary>
    public int BlockSize { get; init; }

    /// <summary>How many backups (snapshots) it holds.</summary>
    public int Backups { get; init; }

    /// <summary>Bytes its files take (packs, index, manifests).</summary>
    public long StoredBytes { get; init; }

    /// <summary><see cref="StoredBytes"/> in GiB.</summary>
    public double StoredGB => Math.Round(StoredBytes / 1073741824.0, 2);

    /// <summary>What it is for (config.yaml).</summary>
    public string? Description { get; init; }

    /// <inheritdoc />
    public override string ToString() => Name is null ? Location : $"{Name} ({Location})";
}

/// <summary>One backup of one VM: a snapshot manifest in a repository.</summary>
public sealed record CesoBackup
{
    /// <summary>The snapshot id (64 hex digits).</summary>
    public required string Id { get; init; }

    /// <summary>The first 8 digits of <see cref="Id"/>: enough to name it in every cmdlet.</summary>
    public string ShortId => Id[..Math.Min(8, Id.Length)];

    /// <summary>When the backup was taken (UTC).</summary>
    public DateTimeOffset Time { get; init; }

    /// <summary>The VM's name at the time.</summary>
    public required string Vm { get; init; }

    /// <summary>The VM's id on its host at the time.</summary>
    public string? VmId { get; init; }

    /// <summary>The host it came from.</summary>
    public string? Host { get; init; }

    /// <summary>Cold (VM off) or Hot (through a snapshot).</summary>
    public required string Mode { get; init; }

    /// <summary>Tags given at backup time.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The disks it holds.</summary>
    public IReadOnlyList<CesoBackupDisk> Disks { get; init; } = [];

    /// <summary>The disks' capacity in bytes.</summary>
    public long SizeBytes { get; init; }

    /// <summary>Bytes of non-zero data in the disks.</summary>
    public long DataBytes { get; init; }

    /// <summary>Bytes this backup added to the repository (compressed, encrypted); the rest was there already.</summary>
    public long AddedBytes { get; init; }

    /// <summary><see cref="SizeBytes"/> in GiB.</summary>
    public double SizeGB => Math.Round(SizeBytes / 1073741824.0, 2);

    /// <summary><see cref="DataBytes"/> in GiB.</summary>
    public double DataGB => Math.Round(DataBytes / 1073741824.0, 2);

    /// <summary><see cref="AddedBytes"/> in MiB.</summary>
    public double AddedMB => Math.Round(AddedBytes / 1048576.0, 1);

    /// <summary>The repository it is in (its name, else its location).</summary>
    public string? Repository { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{ShortId} {Vm} {Time:u} {Mode}";
}

/// <summary>A disk inside a backup.</summary>
public sealed record CesoBackupDisk
{
    /// <summary>The disk's descriptor on the host at backup time (<c>[datastore1] web01/web01.vmdk</c>).</summary>
    public required string Path { get; init; }

    /// <summary>Its capacity in bytes.</summary>
    public long CapacityBytes { get; init; }

    /// <summary>Non-zero blocks stored for it.</summary>
    public long Blocks { get; init; }

    /// <summary>How its blocks were read from the host: <c>host-helper</c> (Python on the host) or <c>plain-stream</c>.</summary>
    public string? ReadPath { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Path} {Math.Round(CapacityBytes / 1073741824.0, 2).ToString(System.Globalization.CultureInfo.InvariantCulture)} GB";
}

/// <summary>What retention decided for one backup (Remove-CesoBackup -KeepLast … -WhatIf lists one per backup).</summary>
public sealed record CesoBackupRetention
{
    /// <summary>The backup.</summary>
    public required CesoBackup Backup { get; init; }

    /// <summary>Keep or Remove.</summary>
    public required string Action { get; init; }

    /// <summary>Why it is kept (<c>last</c>, <c>daily</c>, …); empty for one that goes.</summary>
    public IReadOnlyList<string> Reasons { get; init; } = [];
}

/// <summary>The result of Test-CesoBackup.</summary>
public sealed record CesoBackupCheck
{
    /// <summary>The repository checked.</summary>
    public required string Repository { get; init; }

    /// <summary>True when no error was found (warnings, such as data no backup uses, do not count).</summary>
    public bool Ok { get; init; }

    /// <summary>Whether blob data was read, decrypted and hashed (-ReadData / -ReadDataSubset).</summary>
    public bool ReadData { get; init; }

    /// <summary>Backups checked.</summary>
    public int Backups { get; init; }

    /// <summary>Pack files checked.</summary>
    public int Packs { get; init; }

    /// <summary>Blobs whose data was read and verified.</summary>
    public long BlobsRead { get; init; }

    /// <summary>What is wrong, each naming the backups and disks it affects.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];
}
