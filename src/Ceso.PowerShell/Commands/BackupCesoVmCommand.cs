using System.Management.Automation;
using System.Security;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Backs up VMs (disks, .vmx, .nvram) into a backup repository: cold when powered off, -Hot through a temporary snapshot.</para>
/// </summary>
[Cmdlet(VerbsData.Backup, "CesoVm", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = Default)]
[OutputType(typeof(CesoBackup))]
public sealed class BackupCesoVmCommand : BackupCmdlet
{
    private const string Default = "Default";
    private OpenedRepository? _repository;
    private string? _password;

    /// <summary>The VMs: names, ids, or Get-CesoVm results.</summary>
    [Parameter(ParameterSetName = Default, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(VmCompleter))]
    public VmIdentity[] Vm { get; set; } = [];

    /// <summary>The repository: a name registered in config.yaml, or a directory path.</summary>
    [Parameter(ParameterSetName = Default, Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RepositoryCompleter))]
    public string Repository { get; set; } = "";

    /// <summary>Back up a running VM through a snapshot Ceso makes and removes (also on failure).</summary>
    [Parameter(ParameterSetName = Default)]
    public SwitchParameter Hot { get; set; }

    /// <summary>Back up a VM that has snapshots: its current state, through a consolidated thin copy of each disk made beside it on the datastore and deleted afterwards (needs room for the copy). The snapshots themselves are not backed up.</summary>
    [Parameter]
    public SwitchParameter AllowSnapshots { get; set; }

    /// <summary>Tags recorded with each backup (Get-CesoBackup -Tag finds them).</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string[]? Tag { get; set; }

    /// <summary>The repository password. Default: $env:CESO_REPOSITORY_PASSWORD.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNull]
    public SecureString? Password { get; set; }

    /// <summary>The session to use. Default: the server a piped VM came from, else the default session.</summary>
    [Parameter(ParameterSetName = Default, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity? Server { get; set; }

    /// <summary>Reads the password once; the repository is opened once, for the first VM, and serves every VM of this invocation.</summary>
    protected override void BeginProcessing()
    {
        _password = PlainPassword(Password);
    }

    /// <summary>Plans each VM's backup, asks per step, runs it and writes the backup.</summary>
    protected override void ProcessRecord()
    {
        foreach (var vm in Vm)
        {
            // The session first: without one nothing can continue (NotConnected), whatever the repository.
            if (ResolveServer(Server, vm) is not { } session)
            {
                continue;
            }

            // Every VM would fail the same way, so a repository that does not open ends the cmdlet.
            var repo = _repository ??= OpenRepository(Repository, _password, Repository, terminating: true)!;
            var request = new BackupVmRequest(vm.Id ?? vm.Name, Hot, Tag, AllowSnapshots);
            if (RunPlan(session, vm, ct => BackupOperations.PlanBackupAsync(session, Home, repo, request, ct), out var run, secrets: Secrets(_password)) != PlanOutcome.Executed
                || run?.Snapshot is null)
            {
                continue;
            }

            foreach (var (disk, path) in run.ReadPaths)
            {
                WriteInformation($"{vm.Name}: {disk} was read by {path}", ["Ceso", "BackupReadPath"]);
                WriteVerbose($"{vm.Name}: {disk} was read by {path}.");
            }

            if (TryRunEngine(ct => BackupOperations.DescribeAsync(repo, run.Snapshot.Id, ct, run.ReadPaths), vm, out var backup))
            {
                WriteObject(backup);
            }
        }
    }
}
