using System.Management.Automation;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Lists the open Ceso sessions of this PowerShell session.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CesoServer", DefaultParameterSetName = Default)]
[OutputType(typeof(CesoServerInfo))]
public sealed class GetCesoServerCommand : CesoCmdlet
{
    private const string Default = "Default";

    /// <summary>Server names to show; wildcards allowed. Default: all open sessions.</summary>
    [Parameter(ParameterSetName = Default, Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ServerCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Writes the matching sessions; an exact name without a session is a NotConnected error.</summary>
    protected override void ProcessRecord()
    {
        var (matched, missing) = NameFilter.Apply(Sessions.List(), s => s.Name, Name);
        WriteObject(matched, enumerateCollection: true);
        foreach (var name in missing)
        {
            var error = new Engine.CesoException("NotConnected", Engine.CesoErrorKind.Connection,
                $"There is no open session to '{name}'. Connect with Connect-CesoServer -Server {name}, or run Get-CesoServer to list the open sessions.")
            { Target = name };
            WriteError(ErrorMapper.ToErrorRecord(error, name));
        }
    }
}
