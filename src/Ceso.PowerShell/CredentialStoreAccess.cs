using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.Planning;
using Ceso.Engine.Security.Credentials;

namespace Ceso.PowerShell;

/// <summary>The credential store as cmdlets reach it: chosen and unlocked from this process's variables, read here at the edge.</summary>
public abstract partial class CesoCmdlet
{
    /// <summary>CESO_CREDENTIAL_STORE, CESO_CREDENTIAL_PASSPHRASE, DBUS_SESSION_BUS_ADDRESS and PATH of this process.</summary>
    protected static CredentialStoreSettings CredentialSettings() =>
        CredentialStoreSettings.From(CredentialStoreSettings.Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable, StringComparer.Ordinal));

    /// <summary>The store's passphrase, to mask in everything shown or logged (there may be none).</summary>
    protected static string? CredentialPassphrase() => CredentialSettings().Passphrase;

    /// <summary>Opens the credential store; on failure writes the error for <paramref name="target"/> (or ends the cmdlet) and returns null.</summary>
    protected ICredentialStore? OpenCredentialStore(object? target, bool terminating = false)
    {
        try
        {
            return RunEngine(ct => CredentialStores.OpenAsync(Home, CredentialSettings(), ct));
        }
        catch (Exception e) when (ErrorMapper.IsEngineError(e))
        {
            if (terminating) ThrowTerminatingError(ErrorMapper.ToErrorRecord(e, target));
            WriteEngineError(e, target);
            return null;
        }
    }

    /// <summary>
    /// The one step that saves <paramref name="secret"/> in <paramref name="store"/>, as a local plan (-WhatIf, -Confirm,
    /// the audit log and the agent guardrail as for any change). The command text names the entry, never the secret.
    /// </summary>
    protected static Plan SaveCredentialPlan(ICredentialStore store, CredentialSecret secret) => new()
    {
        Operation = "SaveCredential",
        Host = "local",
        Steps =
        [
            new PlanStep
            {
                Title = $"Save {secret}",
                Target = $"credential '{secret.Name}'",
                Transport = "local",
                Command = $"save {secret.Kind.ToLowerInvariant()} '{secret.Name}'{(secret.UserName is null ? "" : $" (user '{secret.UserName}')")} in the {store.Kind} credential store ({store.Location})",
                Execute = ct => store.SaveAsync(secret, ct),
            },
        ],
    };

    /// <summary>
    /// Loads an entry; a missing one is <c>CredentialNotFound</c>. On failure writes the error for
    /// <paramref name="target"/> (or ends the cmdlet) and returns null.
    /// </summary>
    protected CredentialSecret? LoadCredential(string name, object? target, bool terminating = false)
    {
        Exception failure;
        try
        {
            if (OpenCredentialStore(target, terminating) is not { } store) return null;
            return RunEngine(ct => store.LoadAsync(name, ct)) ?? throw CredentialErrors.NotFound(name, $"the {store.Kind} credential store ({store.Location})");
        }
        catch (Exception e) when (ErrorMapper.IsEngineError(e))
        {
            failure = e;
        }

        if (terminating) ThrowTerminatingError(ErrorMapper.ToErrorRecord(failure, target));
        WriteEngineError(failure, target);
        return null;
    }
}
