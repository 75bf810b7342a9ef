using System.Management.Automation;
using System.Security;
using Ceso.Engine;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Restores a backup as a new VM (-AsNew) with a new identity and optional cloud-init settings.</para>
/// </summary>
[Cmdlet(VerbsData.Restore, "CesoVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = AsNewSet)]
[OutputType(typeof(CesoVm))]
public sealed class RestoreCesoVmCommand : BackupCmdlet
{
    // Restoring over the original VM (-InPlace) is not offered: the engine plans only restores as a new VM.
    private const string AsNewSet = "AsNew";
    private readonly Dictionary<string, OpenedRepository> _opened = new(StringComparer.Ordinal);
    private string? _password;

    /// <summary>The backup: an id or a unique prefix (ShortId), or a Get-CesoBackup result.</summary>
    [Parameter(ParameterSetName = AsNewSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public BackupIdentity Backup { get; set; } = null!;

    /// <summary>The repository: a name registered in config.yaml, or a directory path. Default: the piped backup's.</summary>
    [Parameter(ParameterSetName = AsNewSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RepositoryCompleter))]
    public string? Repository { get; set; }

    /// <summary>Name of the new VM; also its folder and file name on the datastore.</summary>
    [Parameter(ParameterSetName = AsNewSet, Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string AsNew { get; set; } = "";

    /// <summary>Static addresses of the new VM in CIDR form. Default: DHCP.</summary>
    [Parameter(ParameterSetName = AsNewSet)]
    [ValidateNotNullOrEmpty]
    public string[]? IPAddress { get; set; }

    /// <summary>Gateways, at most one per address family. Default: the first host of each subnet.</summary>
    [Parameter(ParameterSetName = AsNewSet)]
    [ValidateNotNullOrEmpty]
    public string[]? Gateway { get; set; }

    /// <summary>DNS servers.</summary>
    [Parameter(ParameterSetName = AsNewSet)]
    [ValidateNotNullOrEmpty]
    public string[]? DnsServer { get; set; }

    /// <summary>DNS search domains.</summary>
    [Parameter(ParameterSetName = AsNewSet)]
    [ValidateNotNullOrEmpty]
    public string[]? SearchDomain { get; set; }

    /// <summary>SSH public keys for the default user: key text, or paths to .pub files.</summary>
    [Parameter(ParameterSetName = AsNewSet)]
    [ValidateNotNullOrEmpty]
    public string[]? SshKey { get; set; }

    /// <summary>Hostname of the new VM. Default: its VM name.</summary>
    [Parameter(ParameterSetName = AsNewSet)]
    [ValidateNotNullOrEmpty]
    public string? Hostname { get; set; }

    /// <summary>Datastore for the new VM. Default: the one the backed-up VM was on.</summary>
    [Parameter(ParameterSetName = AsNewSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DatastoreCompleter))]
    public string? Datastore { get; set; }

    /// <summary>Power the new VM on once it is registered.</summary>
    [Parameter(ParameterSetName = AsNewSet)]
    public SwitchParameter PowerOn { get; set; }

    /// <summary>The repository password. Default: $env:CESO_REPOSITORY_PASSWORD.</summary>
    [Parameter(ParameterSetName = AsNewSet)]
    [ValidateNotNull]
    public SecureString? Password { get; set; }

    /// <summary>The session to restore to. Default: the default session.</summary>
    [Parameter(ParameterSetName = AsNewSet)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity? Server { get; set; }

    private int _records;

    /// <summary>Reads the password once.</summary>
    protected override void BeginProcessing() => _password = PlainPassword(Password);

    /// <summary>Plans the restore, asks per step, restores and writes the new VM as the host lists it.</summary>
    protected override void ProcessRecord()
    {
        if (++_records > 1)
        {
            // One -AsNew name cannot take two backups: the second would fail with VmExists after the first ran.
            WriteEngineError(new CesoException("RestoreNeedsOneBackup", CesoErrorKind.InvalidArgument,
                $"Restore-CesoVm -AsNew '{AsNew}' got more than one backup; {Backup} was not restored. Pipe one backup (Select-Object -Last 1), or call it once per backup with its own -AsNew name.")
            { Target = Backup.Id }, Backup);
            return;
        }

        var repositoryName = Repository ?? Backup.Repository;
        if (repositoryName is null)
        {
            WriteEngineError(new CesoException("RepositoryRequired", CesoErrorKind.InvalidArgument,
                $"Which repository holds backup '{Backup.Id}'? Give -Repository (a registered name or a path), or pipe the backup from Get-CesoBackup.")
            { Target = Backup.Id }, Backup);
            return;
        }

        RestoreVmRequest request;
        try
        {
            var keys = GuestInput.SshKeys(SshKey, ProviderPath);
            var guest = GuestInput.Any(IPAddress, Gateway, DnsServer, SearchDomain, SshKey, Hostname)
                ? GuestInput.Request(AsNew, IPAddress, Gateway, DnsServer, SearchDomain, keys, Hostname)
                : null;
            request = new RestoreVmRequest(Backup.Id, AsNew, guest, Datastore, PowerOn);
        }
        catch (CesoException e)
        {
            WriteEngineError(e, Backup);
            return;
        }

        if (ResolveServer(Server) is not { } session || OpenVmOperations(session, Backup) is not { } ops)
        {
            return;
        }

        if (!_opened.TryGetValue(repositoryName, out var repo))
        {
            if (OpenRepository(repositoryName, _password, Backup) is not { } opened)
            {
                return;
            }

            _opened[repositoryName] = repo = opened;
        }

        if (RunPlan(session, Backup, ct => BackupOperations.PlanRestoreAsync(session, Home, repo, request, ct), out var handle, secrets: [_password]) == PlanOutcome.Executed)
        {
            WriteRefreshed(ops, handle?.Id ?? AsNew, AsNew);
        }
    }
}
