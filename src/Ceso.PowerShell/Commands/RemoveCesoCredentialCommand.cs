using System.Management.Automation;
using Ceso.Engine.Planning;
using Ceso.Engine.Security.Credentials;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Removes saved credentials from the credential store.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "CesoCredential", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveCesoCredentialCommand : CesoCmdlet
{
    /// <summary>The names to remove (exact; Get-CesoCredential output pipes in).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    /// <summary>Removes each name as a one-step local plan; a name that is not saved is CredentialNotFound.</summary>
    protected override void ProcessRecord()
    {
        if (OpenCredentialStore(Name, terminating: true) is not { } store)
        {
            return;
        }

        foreach (var name in Name)
        {
            if (!CredentialSecret.IsValidName(name))
            {
                WriteEngineError(CredentialErrors.NameInvalid(name), name);
                continue;
            }

            if (!TryRunEngine(ct => store.ListAsync(ct), name, out var listed))
            {
                continue;
            }

            if (!listed.Any(c => c.Name == name))
            {
                WriteEngineError(CredentialErrors.NotFound(name, $"the {store.Kind} credential store ({store.Location})"), name);
                continue;
            }

            var plan = new Plan
            {
                Operation = "RemoveCredential",
                Host = "local",
                Steps =
                [
                    new PlanStep
                    {
                        Title = $"Remove credential '{name}'",
                        Target = $"credential '{name}'",
                        Transport = "local",
                        Command = $"remove credential '{name}' from the {store.Kind} credential store ({store.Location})",
                        Execute = ct => store.RemoveAsync(name, ct),
                    },
                ],
            };
            RunLocalPlan(plan, name, [CredentialPassphrase()]);
        }
    }
}
