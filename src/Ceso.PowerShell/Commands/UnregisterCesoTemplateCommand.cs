using System.Management.Automation;
using Ceso.Engine.Configuration;
using Ceso.Engine.Model;
using Ceso.PowerShell.Completers;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Removes templates from the registry in config.yaml; the VMs on the host are not touched.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Unregister, "CesoTemplate", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(CesoTemplate))]
public sealed class UnregisterCesoTemplateCommand : CesoCmdlet
{
    /// <summary>Registry names, exact (no wildcards).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(TemplateRegistryCompleter))]
    public string[] Name { get; set; } = [];

    /// <summary>Write each removed entry.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Removes each entry's lines from config.yaml, leaving the rest of the file as it is.</summary>
    protected override void ProcessRecord()
    {
        foreach (var name in Name)
        {
            try
            {
                var config = CesoConfig.Load(Home);
                if (!config.Templates.TryGetValue(name, out var entry))
                {
                    WriteEngineError(new Ceso.Engine.CesoException("TemplateNotRegistered", Ceso.Engine.CesoErrorKind.NotFound,
                        $"No template named '{name}' is registered in {CesoConfig.PathOf(Home)}. Run Get-CesoTemplate to list them.") { Target = name }, name);
                    continue;
                }

                var what = $"Unregister template '{name}' (VM '{entry.Vm}'; the VM stays on the host)";
                if (!ShouldProcess(CesoConfig.PathOf(Home), what) || !AuthorizeLocalChange("UnregisterTemplate", CesoConfig.PathOf(Home), what, name))
                {
                    continue;
                }

                var removed = TemplateRegistry.Unregister(Home, name);
                if (PassThru)
                {
                    WriteObject(TemplateRegistry.ToModel(name, removed));
                }
            }
            catch (Ceso.Engine.CesoException e)
            {
                WriteEngineError(e, name);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                WriteEngineError(new Ceso.Engine.CesoException("ConfigNotWritable", Ceso.Engine.CesoErrorKind.InvalidState,
                    $"Could not write {CesoConfig.PathOf(Home)}: {e.Message}", e) { Target = name }, name);
            }
        }
    }
}
