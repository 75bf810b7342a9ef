using System.Management.Automation;
using System.Security;
using Ceso.Engine;
using Ceso.Engine.Backup;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Security.Credentials;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Creates a backup repository (a directory, an SFTP folder or an S3 bucket prefix) and registers it by name in config.yaml.</para>
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

    /// <summary>Where: a directory (empty or missing; a local disk or an NFS mount), sftp://user@host/folder, s3://bucket/prefix or s3:https://endpoint/bucket/prefix.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    [Alias("Location", "Url")]
    public string Path { get; set; } = "";

    /// <summary>S3: the endpoint of an S3-compatible server (MinIO, Ceph, Swift, Wasabi …). Default: AWS.</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? S3Endpoint { get; set; }

    /// <summary>S3: the region (the signing region of an S3-compatible server). Default: us-east-1.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? S3Region { get; set; }

    /// <summary>S3: path-style addressing (endpoint/bucket/key). Default: on with -S3Endpoint, off for AWS.</summary>
    [Parameter]
    public SwitchParameter S3PathStyle { get; set; }

    /// <summary>S3: the AWS profile (~/.aws/credentials) whose keys are used. Default: the AWS variables, then the default profile.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? AwsProfile { get; set; }

    /// <summary>SFTP: the private key file. Default: the ssh agent and ~/.ssh/config.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SshKeyPath { get; set; }

    /// <summary>SFTP: the known_hosts file the server's key is checked against. Default: ~/.ssh/known_hosts.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KnownHostsPath { get; set; }

    /// <summary>The password that encrypts the repository's key. Default: $env:CESO_REPOSITORY_PASSWORD.</summary>
    [Parameter(ParameterSetName = Encrypted)]
    [ValidateNotNull]
    public SecureString? Password { get; set; }

    /// <summary>Also save the password in the credential store as repository:&lt;Name&gt;, so later backup cmdlets find it by the repository's name.</summary>
    [Parameter(ParameterSetName = Encrypted)]
    public SwitchParameter SavePassword { get; set; }

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
        if (NoEncryption && PasswordSecretName is not null)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(new CesoException("PasswordAmbiguous", CesoErrorKind.InvalidArgument,
                $"-NoEncryption stores the repository '{Name}' without a password, and -PasswordSecretName gives one; give one of them."), PasswordSecretName));
        }

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

        var path = LooksLikePath(Path) ? ProviderPath(Path)! : Path;
        var options = new RepositoryLocationOptions
        {
            Endpoint = S3Endpoint,
            Region = S3Region,
            PathStyle = MyInvocation.BoundParameters.ContainsKey(nameof(S3PathStyle)) ? S3PathStyle.IsPresent : null,
            Profile = AwsProfile,
            IdentityFile = SshKeyPath is null ? null : ProviderPath(SshKeyPath),
            KnownHostsFile = KnownHostsPath is null ? null : ProviderPath(KnownHostsPath),
        };
        RepositoryLocation location;
        try
        {
            location = RepositoryLocation.Parse(path, options);
        }
        catch (CesoException e)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(e, Path));
            return;
        }

        // The store is opened (and its kind known) before anything is created, so a store that cannot be used fails first.
        var entry = CredentialSecret.RepositoryEntry(Name);
        if (SavePassword && !CredentialSecret.IsValidName(entry))
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(CredentialErrors.NameInvalid(entry), Name));
        }

        var store = SavePassword ? OpenCredentialStore(Name, terminating: true) : null;
        var what = $"Create {(password is null ? "an unencrypted" : "an encrypted")} backup repository and register it as '{Name}' in {System.IO.Path.Combine(Home.Path, "config.yaml")}" +
            (store is null ? "" : $", and save its password as '{entry}' in the {store.Kind} credential store ({store.Location})");
        if (!ShouldProcess(location.ToString(), what) || !AuthorizeLocalChange("NewBackupRepository", location.ToString(), what, Name))
        {
            return;
        }

        var credentials = S3Credentials();
        if (TryRunEngine(ct => BackupOperations.CreateRepositoryAsync(Home, Name, path, password, BlockSize, Description, ct, options, credentials, AwsEnvironment()), Name, out var repo) &&
            TryRunEngine(ct => repo.DescribeAsync(Description, ct), Name, out var described))
        {
            if (store is not null)
            {
                var secret = new CredentialSecret(entry, CredentialSecret.PasswordKind, null, password!, DateTimeOffset.UtcNow);
                TryRunEngine(async ct => { await store.SaveAsync(secret, ct).ConfigureAwait(false); return true; }, Name, out _);
            }

            WriteObject(described);
        }
    }
}
