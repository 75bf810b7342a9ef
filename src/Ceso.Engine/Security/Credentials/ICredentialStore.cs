namespace Ceso.Engine.Security.Credentials;

/// <summary>
/// Where Ceso keeps credentials by name: the OS keyring (DPAPI, Keychain, Secret Service) or an encrypted file.
/// Every implementation keeps the secret out of process arguments, logs and errors; <see cref="ListAsync"/> returns
/// names and metadata only, never a secret.
/// </summary>
public interface ICredentialStore
{
    /// <summary>The store's kind as CESO_CREDENTIAL_STORE names it: file, secret-service, dpapi, keychain.</summary>
    string Kind { get; }

    /// <summary>Where the secrets are, for messages and Get-CesoCredential (a file path, "Secret Service (D-Bus)", …).</summary>
    string Location { get; }

    /// <summary>Saves <paramref name="secret"/>, replacing an entry of the same name.</summary>
    Task SaveAsync(CredentialSecret secret, CancellationToken ct);

    /// <summary>The entry named <paramref name="name"/>, or null when there is none.</summary>
    Task<CredentialSecret?> LoadAsync(string name, CancellationToken ct);

    /// <summary>Removes the entry; false when there was none.</summary>
    Task<bool> RemoveAsync(string name, CancellationToken ct);

    /// <summary>Every entry's name and metadata, ordered by name; never a secret.</summary>
    Task<IReadOnlyList<CesoCredential>> ListAsync(CancellationToken ct);
}
