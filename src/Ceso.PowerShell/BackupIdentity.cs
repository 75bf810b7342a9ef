using Ceso.Engine.Model;

namespace Ceso.PowerShell;

/// <summary>
/// What <c>-Backup</c> binds to: a backup id or a unique prefix of one (<c>-Backup 3f2a9c1e</c>), or a Get-CesoBackup
/// result (<c>Get-CesoBackup -Vm web01 | Select-Object -Last 1 | Restore-CesoVm …</c>), which also names its repository.
/// </summary>
public sealed class BackupIdentity
{
    /// <summary>A backup id or a unique prefix of one.</summary>
    public BackupIdentity(string id)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        Id = id.Trim();
    }

    /// <summary>The backup a Get-CesoBackup result describes, in the repository it came from.</summary>
    public BackupIdentity(CesoBackup backup)
    {
        ArgumentNullException.ThrowIfNull(backup);
        Id = backup.Id;
        Repository = backup.Repository;
        Vm = backup.Vm;
    }

    /// <summary>The id (or prefix) as given.</summary>
    public string Id { get; }

    /// <summary>The repository (a name or a location) when the identity came from a backup object.</summary>
    public string? Repository { get; }

    /// <summary>The VM the backup is of, when the identity came from a backup object.</summary>
    public string? Vm { get; }

    /// <summary>The id, shortened to 8 digits when it is a full id.</summary>
    public override string ToString() => Id.Length > 8 && Vm is not null ? $"{Id[..8]} ({Vm})" : Id;
}
