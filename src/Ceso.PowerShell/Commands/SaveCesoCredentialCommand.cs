using System.Management.Automation;
using System.Net;
using System.Security;
using Ceso.Engine.Security.Credentials;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Saves a credential (user and password) or a password under a name in the OS keyring or Ceso's encrypted credential file.</para>
/// </summary>
[Cmdlet(VerbsData.Save, "CesoCredential", SupportsShouldProcess = true, DefaultParameterSetName = WithCredential)]
[OutputType(typeof(CesoCredential))]
public sealed class SaveCesoCredentialCommand : CesoCmdlet
{
    private const string WithCredential = "Credential";
    private const string WithPassword = "Password";

    /// <summary>The entry's name: a server name (what Connect-CesoServer -CredentialName takes), repository:&lt;name&gt;, or any name.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The user name and password to save.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = WithCredential)]
    [Credential]
    [ValidateNotNull]
    public PSCredential? Credential { get; set; }

    /// <summary>A password alone (a backup repository's).</summary>
    [Parameter(Mandatory = true, ParameterSetName = WithPassword)]
    [ValidateNotNull]
    public SecureString? Password { get; set; }

    /// <summary>Write the saved entry (its name and metadata, never the secret).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Saves the entry as a one-step local plan.</summary>
    protected override void ProcessRecord()
    {
        if (!CredentialSecret.IsValidName(Name))
        {
            WriteEngineError(CredentialErrors.NameInvalid(Name), Name);
            return;
        }

        var secret = Credential is not null
            ? new CredentialSecret(Name, CredentialSecret.CredentialKind, Credential.UserName, Credential.GetNetworkCredential().Password, DateTimeOffset.UtcNow)
            : new CredentialSecret(Name, CredentialSecret.PasswordKind, null, new NetworkCredential("", Password).Password, DateTimeOffset.UtcNow);
        if (OpenCredentialStore(Name) is not { } store)
        {
            return;
        }

        if (RunLocalPlan(SaveCredentialPlan(store, secret), Name, [secret.Password, CredentialPassphrase()]) == PlanOutcome.Executed && PassThru)
        {
            WriteObject(secret.Describe(store.Kind));
        }
    }
}
