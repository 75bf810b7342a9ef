using System.Management.Automation;
using Ceso.Engine.Model;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Gets the ESXi host behind a session: product, version, build, CPU, memory and license.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CesoHost", DefaultParameterSetName = Default)]
[OutputType(typeof(CesoHost))]
public sealed class GetCesoHostCommand : CesoCmdlet
{
    private const string Default = "Default";

    /// <summary>The session to ask: a server name, a session id or a Connect-CesoServer result. Default: the default session.</summary>
    [Parameter(ParameterSetName = Default, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public ServerIdentity? Server { get; set; }

    /// <summary>Writes the host.</summary>
    protected override void ProcessRecord()
    {
        if (ResolveServer(Server) is not { } session)
        {
            return;
        }

        if (TryRunEngine(session.Inventory.GetHostAsync, (object?)Server ?? session.Server, out var host))
        {
            WriteObject(host);
        }
    }
}
