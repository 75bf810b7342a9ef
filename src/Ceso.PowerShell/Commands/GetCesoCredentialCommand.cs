using System.Management.Automation;
using Ceso.Engine.Security.Credentials;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Lists the saved credentials: names, kind, user name, store and when they were saved — never a secret.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CesoCredential")]
[OutputType(typeof(CesoCredential))]
public sealed class GetCesoCredentialCommand : CesoCmdlet
{
    /// <summary>Only these names; wildcards allowed. An exact name that is not saved is an error.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Writes the matching entries, ordered by name.</summary>
    protected override void ProcessRecord()
    {
        if (OpenCredentialStore(Name, terminating: true) is not { } store ||
            !TryRunEngine(ct => store.ListAsync(ct), Name, out var listed))
        {
            return;
        }

        var (matched, missing) = NameFilter.Apply(listed, c => c.Name, Name);
        foreach (var name in missing)
        {
            WriteEngineError(CredentialErrors.NotFound(name, $"the {store.Kind} credential store ({store.Location})"), name);
        }

        WriteObject(matched, enumerateCollection: true);
    }
}
