using System.Management.Automation;
using System.Security;
using Ceso.Engine;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Restores a backup as a new VM (-AsNew, a new identity and optional cloud-init settings) or over the VM it was taken of (-InPlace, the identity kept).</para>
/// </summary>
[Cmdlet(VerbsData.Restore, "CesoVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = AsNewSet)]
[OutputType(typeof(CesoVm))]
public sealed class RestoreCesoVmCommand : BackupCmdlet
{
    private const string AsNewSet = "AsNew";
    private const string InPlaceSet = "InPlace";
    private readonly Dictionary<string, OpenedRepository> _opened = new(StringComparer.Ordinal);
    private string? _password;

    /// <summary>The backup: an id or a unique prefix (ShortId), or a Get-CesoBackup result.</summary>
    [Parameter(ParameterSetName = AsNewSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = InPlaceSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public BackupIdentity Backup { get; set; } = null!;

    /// <summary>The repository: a name registered in config.yaml, or a directory path. Default: the piped backup's.</summary>
    [Parameter(ParameterSetName = AsNewSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = InPlaceSet, ValueFromPipelineByPropertyName = true)]
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

    /// <summary>-AsNew: lease the address from this IP pool (New-CesoIPPool); its gateway, DNS servers and search domains come with it.</summary>
    [Parameter(ParameterSetName = AsNewSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(IPPoolCompleter))]
    public string? IPPool { get; set; }

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

    /// <summary>Restore over the VM the backup was taken of (or -Vm): it must be powered off and keeps its identity; its old disks are kept until the restored ones are written and checked, then deleted.</summary>
    [Parameter(ParameterSetName = InPlaceSet, Mandatory = true)]
    public SwitchParameter InPlace { get; set; }

    /// <summary>With -InPlace: the VM to restore over (a name or id). Default: the VM of the backup's name.</summary>
    [Parameter(ParameterSetName = InPlaceSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(VmNameCompleter))]
    public string? Vm { get; set; }

    /// <summary>With -InPlace: do not ask for confirmation (a restore in place replaces the VM's disks; it asks by default, as ConfirmImpact High does).</summary>
    [Parameter(ParameterSetName = InPlaceSet)]
    public SwitchParameter Force { get; set; }

    /// <summary>Power the VM on once it is restored.</summary>
    [Parameter(ParameterSetName = AsNewSet)]
    [Parameter(ParameterSetName = InPlaceSet)]
    public SwitchParameter PowerOn { get; set; }

    /// <summary>The repository password. Default: $env:CESO_REPOSITORY_PASSWORD.</summary>
    [Parameter(ParameterSetName = AsNewSet)]
    [Parameter(ParameterSetName = InPlaceSet)]
    [ValidateNotNull]
    public SecureString? Password { get; set; }

    /// <summary>The session to restore to. Default: the default session.</summary>
    [Parameter(ParameterSetName = AsNewSet)]
    [Parameter(ParameterSetName = InPlaceSet)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity? Server { get; set; }

    private int _records;

    /// <summary>Reads the password once.</summary>
    protected override void BeginProcessing() => _password = PlainPassword(Password);

    /// <summary>Plans the restore, asks per step, restores and writes the new VM as the host lists it.</summary>
    protected override void ProcessRecord()
    {
        if (InPlace)
        {
            RestoreInPlace();
            return;
        }

        if (++_records > 1)
        {
            // One -AsNew name cannot take two backups: the second would fail with VmExists after the first ran.
            WriteEngineError(new CesoException("RestoreNeedsOneBackup", CesoErrorKind.InvalidArgument,
                $"Restore-CesoVm -AsNew '{AsNew}' got more than one backup; {Backup} was not restored. Pipe one backup (Select-Object -Last 1), or call it once per backup with its own -AsNew name.")
            { Target = Backup.Id }, Backup);
            return;
        }

        if (RepositoryName() is not { } repositoryName)
        {
            return;
        }

        if (!CheckPoolOrAddress(IPPool, IPAddress, Backup))
        {
            return;
        }

        RestoreVmRequest? Build(CesoIPPoolAddress? address)
        {
            try
            {
                var keys = GuestInput.SshKeys(SshKey, ProviderPath);
                var (ip, gateway, dns, search) = GuestInput.WithPool(address, IPAddress, Gateway, DnsServer, SearchDomain);
                var guest = GuestInput.Any(ip, gateway, dns, search, SshKey, Hostname)
                    ? GuestInput.Request(AsNew, ip, gateway, dns, search, keys, Hostname)
                    : null;
                return new RestoreVmRequest(Backup.Id, AsNew, guest, Datastore, PowerOn);
            }
            catch (CesoException e)
            {
                WriteEngineError(e, Backup);
                return null;
            }
        }

        var request = IPPool is null ? Build(null) : null;
        if ((IPPool is null && request is null) || ResolveServer(Server) is not { } session || OpenVmOperations(session, Backup) is not { } ops)
        {
            return;
        }

        if (Opened(repositoryName) is not { } repo)
        {
            return;
        }

        AddressLeasing? leasing = null;
        CesoIPPoolAddress? address = null;
        if (IPPool is not null && ((address = TakePoolAddress(session, IPPool, AsNew, Backup, out leasing)) is null || (request = Build(address)) is null))
        {
            if (leasing is not null) SettlePoolAddress(leasing, address, PlanOutcome.Failed, null, Backup);
            return;
        }

        var outcome = PlanOutcome.Failed;
        CesoVm? restored = null;
        try
        {
            outcome = RunPlan(session, Backup, ct => BackupOperations.PlanRestoreAsync(session, Home, repo, request!, ct), out var handle, secrets: Secrets(_password));
            if (outcome == PlanOutcome.Executed)
            {
                restored = WriteRefreshed(ops, handle?.Id ?? AsNew, AsNew);
            }
        }
        finally
        {
            if (leasing is not null)
            {
                SettlePoolAddress(leasing, address, outcome, restored?.Id, Backup);
            }
        }
    }

    // -InPlace: one VM per backup; several piped backups of different VMs each restore their own VM.
    private void RestoreInPlace()
    {
        if (RepositoryName() is not { } repositoryName || ResolveServer(Server) is not { } session || OpenVmOperations(session, Backup) is not { } ops ||
            Opened(repositoryName) is not { } repo)
        {
            return;
        }

        // ConfirmImpact High for this parameter set only: asked once, unless -Force, -Confirm:$false, $ConfirmPreference
        // 'None' or -WhatIf (which previews every step and changes nothing).
        var whatIf = MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) && ((SwitchParameter)w).IsPresent;
        var confirmBound = MyInvocation.BoundParameters.ContainsKey("Confirm");
        var preference = SessionState.PSVariable.GetValue("ConfirmPreference") is ConfirmImpact p ? p : ConfirmImpact.High;
        var vm = Vm ?? Backup.Vm ?? "the VM it was taken of";
        if (!whatIf && !Force && !confirmBound && preference != ConfirmImpact.None &&
            !ShouldContinue($"Restore backup {Backup} over '{vm}' on {session.Server}? Its disks, .vmx settings and .nvram are replaced by the backup's (the old disks are deleted once the restored ones are in place); it keeps its identity.", "Restore in place"))
        {
            return;
        }

        var request = new RestoreInPlaceRequest(Backup.Id, Vm, PowerOn);
        if (RunPlan(session, Backup, ct => BackupOperations.PlanRestoreInPlaceAsync(session, Home, repo, request, ct), out var handle, secrets: Secrets(_password)) == PlanOutcome.Executed)
        {
            WriteRefreshed(ops, handle?.Id ?? vm, handle?.Name ?? vm);
        }
    }

    private string? RepositoryName()
    {
        if ((Repository ?? Backup.Repository) is { } name)
        {
            return name;
        }

        WriteEngineError(new CesoException("RepositoryRequired", CesoErrorKind.InvalidArgument,
            $"Which repository holds backup '{Backup.Id}'? Give -Repository (a registered name or a path), or pipe the backup from Get-CesoBackup.")
        { Target = Backup.Id }, Backup);
        return null;
    }

    private OpenedRepository? Opened(string repositoryName)
    {
        if (!_opened.TryGetValue(repositoryName, out var repo))
        {
            if (OpenRepository(repositoryName, _password, Backup) is not { } opened)
            {
                return null;
            }

            _opened[repositoryName] = repo = opened;
        }

        return repo;
    }
}
