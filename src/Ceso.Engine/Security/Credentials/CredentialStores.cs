namespace Ceso.Engine.Security.Credentials;

/// <summary>What chooses and unlocks a credential store, read by the front end from its environment.</summary>
/// <param name="Store">CESO_CREDENTIAL_STORE: file, secret-service, dpapi or keychain; null or empty for the platform's default.</param>
/// <param name="Passphrase">CESO_CREDENTIAL_PASSPHRASE: the encrypted file's passphrase.</param>
/// <param name="SessionBus">DBUS_SESSION_BUS_ADDRESS: the D-Bus session the Secret Service answers on.</param>
/// <param name="SearchPath">PATH: where secret-tool is looked for.</param>
public sealed record CredentialStoreSettings(string? Store, string? Passphrase, string? SessionBus, string? SearchPath)
{
    /// <summary>The variables that make up the settings.</summary>
    public static readonly string[] Variables = [CredentialErrors.StoreVariable, CredentialErrors.PassphraseVariable, "DBUS_SESSION_BUS_ADDRESS", "PATH"];

    /// <summary>The settings from those variables (a dictionary the front end filled).</summary>
    public static CredentialStoreSettings From(IReadOnlyDictionary<string, string?> variables) => new(
        variables.GetValueOrDefault(CredentialErrors.StoreVariable),
        variables.GetValueOrDefault(CredentialErrors.PassphraseVariable),
        variables.GetValueOrDefault("DBUS_SESSION_BUS_ADDRESS"),
        variables.GetValueOrDefault("PATH"));
}

/// <summary>
/// Chooses the credential store: CESO_CREDENTIAL_STORE when set; else Windows DPAPI, the macOS Keychain, the Linux
/// Secret Service when a session bus exists, secret-tool is installed and the service answers, else the encrypted
/// file (which needs CESO_CREDENTIAL_PASSPHRASE). There is no plaintext store: a store that cannot be used is an error
/// that says what to do.
/// </summary>
public static class CredentialStores
{
    /// <summary>The kind name of the Windows DPAPI store (its class is Windows-only).</summary>
    public const string DpapiKind = "dpapi";

    /// <summary>The kinds CESO_CREDENTIAL_STORE takes.</summary>
    public static readonly string[] Kinds = [EncryptedFileCredentialStore.KindName, SecretServiceCredentialStore.KindName, DpapiKind, KeychainCredentialStore.KindName];

    /// <summary>The encrypted file's path under a Ceso home.</summary>
    public static string FilePath(Connection.CesoHome home) => Path.Combine(home.Path, "credentials.json");

    /// <summary>Opens the store the settings choose (see the class summary).</summary>
    public static async Task<ICredentialStore> OpenAsync(Connection.CesoHome home, CredentialStoreSettings settings, CancellationToken ct)
    {
        var chosen = settings.Store?.Trim().ToLowerInvariant();
        switch (chosen)
        {
            case EncryptedFileCredentialStore.KindName:
                return File(home, settings);
            case SecretServiceCredentialStore.KindName:
                if (string.IsNullOrEmpty(settings.SessionBus))
                {
                    throw CredentialErrors.Unavailable(chosen, "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set). Run in a desktop session, or use $env:CESO_CREDENTIAL_STORE = 'file' with $env:CESO_CREDENTIAL_PASSPHRASE.");
                }

                return SecretService(FindSecretTool(settings.SearchPath) ??
                    throw CredentialErrors.Unavailable(chosen, "secret-tool is not installed (Debian/Ubuntu: apt-get install libsecret-tools)."), settings.SessionBus);
            case DpapiKind:
                return OperatingSystem.IsWindows()
                    ? new DpapiCredentialStore(Path.Combine(home.Path, "credentials.dpapi.json"))
                    : throw CredentialErrors.Unavailable(chosen, "DPAPI exists on Windows only; on this OS use 'secret-service', 'keychain' or 'file'.");
            case KeychainCredentialStore.KindName:
                return OperatingSystem.IsMacOS() && System.IO.File.Exists(KeychainCredentialStore.SecurityTool)
                    ? new KeychainCredentialStore(Path.Combine(home.Path, "credentials.keychain.json"))
                    : throw CredentialErrors.Unavailable(chosen, $"the Keychain exists on macOS only ({KeychainCredentialStore.SecurityTool}); on this OS use 'secret-service', 'dpapi' or 'file'.");
            case null or "":
                break;
            default:
                throw new CesoException("CredentialStoreUnknown", CesoErrorKind.InvalidArgument,
                    $"$env:{CredentialErrors.StoreVariable} is '{settings.Store}', which is not a credential store; use one of: {string.Join(", ", Kinds)}.")
                { Target = settings.Store };
        }

        if (OperatingSystem.IsWindows()) return new DpapiCredentialStore(Path.Combine(home.Path, "credentials.dpapi.json"));
        if (OperatingSystem.IsMacOS()) return new KeychainCredentialStore(Path.Combine(home.Path, "credentials.keychain.json"));
        if (!string.IsNullOrEmpty(settings.SessionBus) && FindSecretTool(settings.SearchPath) is { } tool)
        {
            var service = SecretService(tool, settings.SessionBus);
            if (await service.AnswersAsync(ct).ConfigureAwait(false)) return service;
        }

        return File(home, settings);
    }

    // The bus of the settings, not whatever the process inherited: the front end decided which session to use.
    private static SecretServiceCredentialStore SecretService(string tool, string sessionBus) =>
        new(tool, new Dictionary<string, string?> { ["DBUS_SESSION_BUS_ADDRESS"] = sessionBus });

    private static EncryptedFileCredentialStore File(Connection.CesoHome home, CredentialStoreSettings settings) =>
        new(FilePath(home), settings.Passphrase);

    /// <summary>secret-tool on the search path, or null.</summary>
    public static string? FindSecretTool(string? searchPath) =>
        (searchPath ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "secret-tool"))
            .FirstOrDefault(System.IO.File.Exists);
}
