using System.Management.Automation;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Closes Ceso sessions (SOAP logout, SSH shell exit) and removes them from the runspace.</para>
/// </summary>
[Cmdlet(VerbsCommunications.Disconnect, "CesoServer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = Default)]
[OutputType(typeof(void))]
public sealed class DisconnectCesoServerCommand : CesoCmdlet
{
    private const string Default = "Default";

    /// <summary>The sessions to close: names, session ids or Get-CesoServer results. Default: the default session.</summary>
    [Parameter(ParameterSetName = Default, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity[]? Server { get; set; }

    /// <summary>Closes each named session (or the default one).</summary>
    protected override void ProcessRecord()
    {
        ServerIdentity?[] targets = Server ?? new ServerIdentity?[] { null };
        foreach (var server in targets)
        {
            if (ResolveServer(server) is not { } session || !ShouldProcess(session.Server, "Disconnect"))
            {
                continue;
            }

            Sessions.Remove(session);
            // Not through the cancellable bridge: a stopped pipeline must still close what it removed (bounded:
            // the API logout times out after 5 s, the shell is killed after 2 s).
            session.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
