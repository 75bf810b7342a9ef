using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text;

namespace Ceso.Engine.Security.Credentials;

/// <summary>
/// Windows: credentials in $CESO_HOME/credentials.dpapi.json, each secret sealed with DPAPI for the current user
/// (<see cref="ProtectedData"/>, CurrentUser scope) with its entry's name, kind and user name as the entropy, so only
/// this Windows user on this machine opens it. Untested here (no Windows on the build machines): see docs/security.md.
/// </summary>
[SupportedOSPlatform("windows")]
public sealed class DpapiCredentialStore(string path) : ICredentialStore
{
    /// <summary>The kind name (CESO_CREDENTIAL_STORE=dpapi).</summary>
    public const string KindName = CredentialStores.DpapiKind;

    private const string Kdf = "dpapi";
    private readonly CredentialFile _file = new(path);

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <inheritdoc/>
    public string Location => _file.Path;

    /// <inheritdoc/>
    public Task SaveAsync(CredentialSecret secret, CancellationToken ct)
    {
        Check(secret.Name);
        var data = ProtectedData.Protect(Encoding.UTF8.GetBytes(secret.Password), CredentialJson.EntryBinding(secret.Name, secret.Kind, secret.UserName), DataProtectionScope.CurrentUser);
        return _file.UpdateAsync(current => ((current ?? new CredentialFileModel { Kdf = Kdf }).With(new CredentialFileEntry
        {
            Name = secret.Name,
            Kind = secret.Kind,
            UserName = secret.UserName,
            SavedAt = secret.SavedAt,
            Data = Convert.ToBase64String(data),
        }), true), ct);
    }

    /// <inheritdoc/>
    public Task<CredentialSecret?> LoadAsync(string name, CancellationToken ct)
    {
        Check(name);
        if (_file.Read() is not { } model || model.Entries.FirstOrDefault(e => e.Name == name) is not { } entry)
        {
            return Task.FromResult<CredentialSecret?>(null);
        }

        if (model.Kdf != Kdf) throw CredentialErrors.Corrupt(Location, "is not a DPAPI credential file");
        try
        {
            var plain = ProtectedData.Unprotect(Convert.FromBase64String(entry.Data), CredentialJson.EntryBinding(entry.Name, entry.Kind, entry.UserName), DataProtectionScope.CurrentUser);
            return Task.FromResult<CredentialSecret?>(new CredentialSecret(entry.Name, entry.Kind, entry.UserName, Encoding.UTF8.GetString(plain), entry.SavedAt));
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            throw CredentialErrors.Corrupt($"{Location} (entry '{name}')", "holds an entry DPAPI does not open for this Windows user (saved by another user or machine, or changed)", e);
        }
    }

    /// <inheritdoc/>
    public Task<bool> RemoveAsync(string name, CancellationToken ct)
    {
        Check(name);
        return _file.UpdateAsync(current =>
            current is null || !current.Entries.Any(e => e.Name == name)
                ? ((CredentialFileModel?)null, false)
                : (current with { Entries = current.Entries.Where(e => e.Name != name).ToList() }, true), ct);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<CesoCredential>> ListAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<CesoCredential>>((_file.Read()?.Entries ?? []).Select(e => new CesoCredential(e.Name, e.Kind, e.UserName, Kind, e.SavedAt)).ToList());

    private static void Check(string name)
    {
        if (!CredentialSecret.IsValidName(name)) throw CredentialErrors.NameInvalid(name);
    }
}
