using System.Management.Automation;
using System.Security;
using Ceso.Engine;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Creates a backup repository in an empty or new directory and registers it by name in config.yaml.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "CesoBackupRepository", SupportsShouldProcess = true, DefaultParameterSetName = Encrypted)]
[OutputType(typeof(CesoBackupRepository))]
public sealed class NewCesoBackupRepositoryCommand : BackupCmdlet
{
    private const string Encrypted = "Encrypted";
    private const string Plain = "NoEncryption";

    /// <summary>The name it is registered under in config.yaml; what -Repository takes afterwards.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The directory (empty or missing; a local disk or an NFS mount).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The password that encrypts the repository's key. Default: $env:CESO_REPOSITORY_PASSWORD.</summary>
    [Parameter(ParameterSetName = Encrypted)]
    [ValidateNotNull]
    public SecureString? Password { get; set; }

    /// <summary>Store data unencrypted (still compressed and hashed).</summary>
    [Parameter(ParameterSetName = Plain, Mandatory = true)]
    public SwitchParameter NoEncryption { get; set; }

    /// <summary>The fixed block size disks are cut into, in bytes: a power of two from 4 KiB to 16 MiB. Default: 1 MiB.</summary>
    [Parameter]
    [ValidateRange(4096, 16 * 1024 * 1024)]
    public int? BlockSize { get; set; }

    /// <summary>What the repository is for (kept in config.yaml).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Description { get; set; }

    /// <summary>Creates, registers and writes the repository.</summary>
    protected override void EndProcessing()
    {
        string? password = null;
        if (!NoEncryption)
        {
            password = PlainPassword(Password);
            if (password is null)
            {
                var none = new CesoException("RepositoryPasswordRequired", CesoErrorKind.InvalidArgument,
                    $"No password for the new repository '{Name}': give -Password (a SecureString, e.g. -Password (Read-Host -AsSecureString)), set $env:{PasswordVariable}, or add -NoEncryption to store the backups unencrypted.")
                { Target = Name };
                ThrowTerminatingError(ErrorMapper.ToErrorRecord(none, Name));
            }
        }

        var path = ProviderPath(Path)!;
        var what = $"Create {(password is null ? "an unencrypted" : "an encrypted")} backup repository and register it as '{Name}' in {System.IO.Path.Combine(Home.Path, "config.yaml")}";
        if (!ShouldProcess(path, what))
        {
            return;
        }

        if (TryRunEngine(ct => BackupOperations.CreateRepositoryAsync(Home, Name, path, password, BlockSize, Description, ct), Name, out var repo) &&
            TryRunEngine(ct => repo.DescribeAsync(Description, ct), Name, out var described))
        {
            WriteObject(described);
        }
    }
}
