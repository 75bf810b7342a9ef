namespace Ceso.Engine.Security.Credentials;

/// <summary>The errors of the credential stores; each says what to do. No message ever carries a secret.</summary>
public static class CredentialErrors
{
    /// <summary>The environment variable the encrypted file's passphrase comes from.</summary>
    public const string PassphraseVariable = "CESO_CREDENTIAL_PASSPHRASE";

    /// <summary>The environment variable that chooses the store.</summary>
    public const string StoreVariable = "CESO_CREDENTIAL_STORE";

    /// <summary>The encrypted file needs a passphrase and none was given.</summary>
    public static CesoException Locked(string path) => new("CredentialStoreLocked", CesoErrorKind.Security,
        $"The credential store {path} is encrypted and no passphrase was given. Set $env:{PassphraseVariable} to its passphrase " +
        $"(Ceso never prompts, so that scripts and agents cannot hang), or choose another store with $env:{StoreVariable} " +
        "(file, secret-service, dpapi, keychain).")
    { Target = path };

    /// <summary>The passphrase does not open the encrypted file.</summary>
    public static CesoException PassphraseWrong(string path) => new("CredentialPassphraseWrong", CesoErrorKind.Security,
        $"The passphrase in $env:{PassphraseVariable} does not open the credential store {path}. Set the passphrase the store was " +
        "created with; if it is lost, the saved credentials are too: move the file away and save them again.")
    { Target = path };

    /// <summary>A new encrypted file's passphrase is too short.</summary>
    public static CesoException PassphraseWeak(string path) => new("CredentialPassphraseWeak", CesoErrorKind.InvalidArgument,
        $"The passphrase in $env:{PassphraseVariable} is shorter than 12 characters; the credential store {path} is not created with it. Use a longer passphrase.")
    { Target = path };

    /// <summary>Stored bytes do not authenticate or do not parse.</summary>
    public static CesoException Corrupt(string where, string what, Exception? inner = null) => new("CredentialStoreCorrupt", CesoErrorKind.InvalidState,
        $"The credential store {where} {what}; it was changed outside Ceso or damaged. Remove the entry (Remove-CesoCredential) and save it again.", inner)
    { Target = where };

    /// <summary>The store cannot be used here (its tool, bus or OS is missing, or it failed).</summary>
    public static CesoException Unavailable(string store, string why, Exception? inner = null) => new("CredentialStoreUnavailable", CesoErrorKind.NotSupported,
        $"The credential store '{store}' cannot be used: {why}", inner)
    { Target = store };

    /// <summary>No entry of that name.</summary>
    public static CesoException NotFound(string name, string location) => new("CredentialNotFound", CesoErrorKind.NotFound,
        $"No credential named '{name}' is saved in {location}. Run Get-CesoCredential to list them; save one with Save-CesoCredential -Name '{name}'.")
    { Target = name };

    /// <summary>A name a store does not accept.</summary>
    public static CesoException NameInvalid(string name) => new("CredentialNameInvalid", CesoErrorKind.InvalidArgument,
        $"'{name}' is not a credential name: use a letter or digit first, then letters, digits and . _ @ : - (at most 128), e.g. 'esx01' or 'repository:nas'.")
    { Target = name };
}
