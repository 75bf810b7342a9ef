using System.Management.Automation;
using Ceso.Engine.Configuration;
using Ceso.Engine.Model;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Gets the templates registered in config.yaml, with their defaults and last Test-CesoTemplate result.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CesoTemplate")]
[OutputType(typeof(CesoTemplate))]
public sealed class GetCesoTemplateCommand : CesoCmdlet
{
    /// <summary>Registry names; wildcards allowed. Default: every registered template.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(TemplateRegistryCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Writes the matching entries; an exact name that matches nothing is a TemplateNotRegistered error.</summary>
    protected override void ProcessRecord()
    {
        IReadOnlyList<CesoTemplate> all;
        try
        {
            all = TemplateRegistry.List(Home);
        }
        catch (Ceso.Engine.CesoException e)
        {
            WriteEngineError(e, CesoConfig.PathOf(Home));
            return;
        }

        var (matched, missing) = NameFilter.Apply(all, t => t.Name, Name);
        WriteObject(matched, enumerateCollection: true);
        foreach (var name in missing)
        {
            WriteError(ErrorMapper.ToErrorRecord(new Ceso.Engine.CesoException("TemplateNotRegistered", Ceso.Engine.CesoErrorKind.NotFound,
                $"No template named '{name}' is registered in {CesoConfig.PathOf(Home)}. Run Get-CesoTemplate to list them; -Name accepts wildcards; Register-CesoTemplate adds one.")
            { Target = name }, name));
        }
    }
}
