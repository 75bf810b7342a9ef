using System.Management.Automation;
using System.Net;
using System.Security;
using Ceso.Engine;

namespace Ceso.PowerShell;

/// <summary>
/// PowerShell SecretManagement as cmdlets reach it (<c>-SecretName</c>, <c>-PasswordSecretName</c>): a soft
/// dependency. Ceso does not reference the module; when it is installed, <c>Get-Secret</c> runs in this runspace (so
/// the user's registered vaults and their unlocked state apply), and when it is not, the error says how to install it
/// or what to use instead. The secret is returned to the caller, which masks it like any password; no message, verbose
/// line or error here carries it.
/// </summary>
public abstract partial class CesoCmdlet
{
    /// <summary>The module that provides Get-Secret.</summary>
    protected const string SecretManagementModule = "Microsoft.PowerShell.SecretManagement";

    /// <summary>The PSCredential secret <paramref name="name"/>: user and password. Throws a <see cref="CesoException"/> (see <see cref="GetSecret"/>).</summary>
    protected (string User, string Password) GetSecretCredential(string name, string? vault) =>
        GetSecret(name, vault) is PSCredential credential
            ? (credential.UserName, credential.GetNetworkCredential().Password)
            : throw SecretWrongType(name, vault, "a PSCredential (a user name and a password)",
                $"Set-Secret -Name '{name}' -Secret (Get-Credential root)");

    /// <summary>The SecureString or string secret <paramref name="name"/> in plain text. Throws a <see cref="CesoException"/> (see <see cref="GetSecret"/>).</summary>
    protected string GetSecretPassword(string name, string? vault) => GetSecret(name, vault) switch
    {
        SecureString secure => new NetworkCredential("", secure).Password,
        string plain => plain,
        _ => throw SecretWrongType(name, vault, "a SecureString or a string (a password alone)",
            $"Set-Secret -Name '{name}' -SecureStringSecret (Read-Host -AsSecureString)"),
    };

    /// <summary>
    /// What <c>Get-Secret -Name <paramref name="name"/> [-Vault <paramref name="vault"/>]</c> returns, through this
    /// runspace. <c>SecretManagementNotInstalled</c> when the module is not available, <c>SecretNotFound</c> when no
    /// vault (or not the named one) has the secret, <c>SecretManagementFailed</c> for any other failure of Get-Secret
    /// (a locked vault, an unknown vault).
    /// </summary>
    private object GetSecret(string name, string? vault)
    {
        using var ps = System.Management.Automation.PowerShell.Create(RunspaceMode.CurrentRunspace);
        ps.AddCommand("Get-Module").AddParameter("ListAvailable").AddParameter("Name", SecretManagementModule);
        if (ps.Invoke().Count == 0)
        {
            throw new CesoException("SecretManagementNotInstalled", CesoErrorKind.NotFound,
                $"-SecretName '{name}' reads the secret with Get-Secret, but the module {SecretManagementModule} is not installed. Install it " +
                $"(Install-PSResource {SecretManagementModule}, and a vault extension such as Microsoft.PowerShell.SecretStore), or keep the " +
                "credential in Ceso's own credential store instead: Save-CesoCredential, then -CredentialName.")
            { Target = name };
        }

        ps.Commands.Clear();
        // -ErrorAction Continue, whatever $ErrorActionPreference the caller has: Get-Secret reports a missing secret as a
        // non-terminating error (GetSecretNotFound), read here from the nested pipeline's error stream, so that the
        // caller's $Error holds Get-Secret's record rather than a bare stop exception.
        ps.AddCommand("Get-Secret").AddParameter("Name", name).AddParameter("ErrorAction", ActionPreference.Continue);
        if (vault is not null) ps.AddParameter("Vault", vault);
        System.Collections.ObjectModel.Collection<PSObject> found;
        try
        {
            found = ps.Invoke();
        }
        catch (RuntimeException e)
        {
            throw Failed(name, vault, e.ErrorRecord, e);
        }

        if (found.FirstOrDefault(o => o is not null)?.BaseObject is { } secret)
        {
            return secret;
        }

        var error = ps.Streams.Error.FirstOrDefault();
        return error is null || error.FullyQualifiedErrorId.StartsWith("GetSecretNotFound", StringComparison.Ordinal) || error.CategoryInfo.Category == ErrorCategory.ObjectNotFound
            ? throw NotFound(name, vault, error?.Exception)
            : throw Failed(name, vault, error, error.Exception);
    }

    private static CesoException Failed(string name, string? vault, ErrorRecord? error, Exception inner) => new("SecretManagementFailed", CesoErrorKind.InvalidState,
        $"Get-Secret -Name '{name}'{In(vault)} failed: {error?.ToString() ?? inner.Message} Check the vault (Get-SecretVault, Test-SecretVault; a SecretStore vault may need Unlock-SecretStore).", inner)
    { Target = name };

    private static CesoException NotFound(string name, string? vault, Exception? inner) => new("SecretNotFound", CesoErrorKind.NotFound,
        $"SecretManagement has no secret named '{name}'{In(vault)}. Run Get-SecretInfo to list the secrets, or add it with Set-Secret -Name '{name}'.", inner)
    { Target = name };

    private static CesoException SecretWrongType(string name, string? vault, string expected, string fix) => new("SecretWrongType", CesoErrorKind.InvalidArgument,
        $"The secret '{name}'{In(vault)} is not {expected}. Store one of that type ({fix}), or name another secret.")
    { Target = name };

    private static string In(string? vault) => vault is null ? "" : $" in vault '{vault}'";
}
