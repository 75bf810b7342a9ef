using System.Security.Cryptography;
using System.Text;

namespace Ceso.Engine.Security.Credentials;

/// <summary>
/// Credentials in one file ($CESO_HOME/credentials.json, mode 0600 on Unix): each secret sealed with AES-256-GCM under
/// a key derived from a passphrase with PBKDF2-HMAC-SHA256 (<see cref="PassphraseKey"/>; iterations and salt in the
/// file), bound to its entry's name, kind and user name. A sealed verifier tells a wrong passphrase
/// (<c>CredentialPassphraseWrong</c>) from a damaged entry (<c>CredentialStoreCorrupt</c>). Names and metadata are
/// readable without the passphrase, so listing works without it; loading and saving need it.
/// </summary>
public sealed class EncryptedFileCredentialStore : ICredentialStore
{
    /// <summary>The kind name (CESO_CREDENTIAL_STORE=file).</summary>
    public const string KindName = "file";

    private const string Kdf = "pbkdf2-sha256";
    private const int MinPassphraseLength = 12;
    private static readonly byte[] VerifierText = Encoding.UTF8.GetBytes("ceso credential store v1");
    private static readonly byte[] VerifierBinding = Encoding.UTF8.GetBytes("ceso:credentials:verifier");

    private readonly CredentialFile _file;
    private readonly string? _passphrase;
    private readonly int _iterations;
    private (string Salt, int Iterations, byte[] Key)? _derived;

    /// <summary>A store in <paramref name="path"/>; <paramref name="passphrase"/> may be null (then only listing works).</summary>
    /// <param name="path">The file.</param>
    /// <param name="passphrase">From CESO_CREDENTIAL_PASSPHRASE, read by the front end.</param>
    /// <param name="iterations">The PBKDF2 count a new file gets (an existing file keeps its own).</param>
    public EncryptedFileCredentialStore(string path, string? passphrase, int iterations = PassphraseKey.DefaultIterations)
    {
        if (!PassphraseKey.AcceptsIterations(iterations)) throw new ArgumentOutOfRangeException(nameof(iterations));
        _file = new CredentialFile(path);
        _passphrase = string.IsNullOrEmpty(passphrase) ? null : passphrase;
        _iterations = iterations;
    }

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <inheritdoc/>
    public string Location => _file.Path;

    /// <summary>False when no passphrase was given: then only listing and removing work.</summary>
    public bool HasPassphrase => _passphrase is not null;

    /// <inheritdoc/>
    public Task SaveAsync(CredentialSecret secret, CancellationToken ct)
    {
        Check(secret.Name);
        var passphrase = _passphrase ?? throw CredentialErrors.Locked(Location);
        return _file.UpdateAsync(current =>
        {
            var model = current ?? New(passphrase);
            var key = Unlock(model);
            var data = PassphraseKey.Seal(key, Encoding.UTF8.GetBytes(secret.Password), CredentialJson.EntryBinding(secret.Name, secret.Kind, secret.UserName));
            return (model.With(new CredentialFileEntry
            {
                Name = secret.Name,
                Kind = secret.Kind,
                UserName = secret.UserName,
                SavedAt = secret.SavedAt,
                Data = Convert.ToBase64String(data),
            }), true);
        }, ct);
    }

    /// <inheritdoc/>
    public Task<CredentialSecret?> LoadAsync(string name, CancellationToken ct)
    {
        Check(name);
        if (_file.Read() is not { } model || model.Entries.FirstOrDefault(e => e.Name == name) is not { } entry)
        {
            return Task.FromResult<CredentialSecret?>(null);
        }

        var key = Unlock(model);
        byte[]? plain = null;
        try
        {
            plain = PassphraseKey.Open(key, Convert.FromBase64String(entry.Data), CredentialJson.EntryBinding(entry.Name, entry.Kind, entry.UserName));
        }
        catch (FormatException)
        {
        }

        if (plain is null)
        {
            throw CredentialErrors.Corrupt($"{Location} (entry '{name}')", "holds an entry that does not authenticate");
        }

        return Task.FromResult<CredentialSecret?>(new CredentialSecret(entry.Name, entry.Kind, entry.UserName, Encoding.UTF8.GetString(plain), entry.SavedAt));
    }

    /// <inheritdoc/>
    public Task<bool> RemoveAsync(string name, CancellationToken ct)
    {
        Check(name);
        return _file.UpdateAsync(current =>
        {
            if (current is null || !current.Entries.Any(e => e.Name == name)) return ((CredentialFileModel?)null, false);
            return (current with { Entries = current.Entries.Where(e => e.Name != name).ToList() }, true);
        }, ct);
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<CesoCredential>> ListAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<CesoCredential>>((_file.Read()?.Entries ?? [])
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .Select(e => new CesoCredential(e.Name, e.Kind, e.UserName, Kind, e.SavedAt)).ToList());

    private CredentialFileModel New(string passphrase)
    {
        if (passphrase.Length < MinPassphraseLength) throw CredentialErrors.PassphraseWeak(Location);
        var salt = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var key = Key(passphrase, salt, _iterations);
        return new CredentialFileModel
        {
            Kdf = Kdf,
            Iterations = _iterations,
            Salt = salt,
            Verifier = Convert.ToBase64String(PassphraseKey.Seal(key, VerifierText, VerifierBinding)),
        };
    }

    /// <summary>The key of the file, after checking the passphrase against its verifier.</summary>
    private byte[] Unlock(CredentialFileModel model)
    {
        var passphrase = _passphrase ?? throw CredentialErrors.Locked(Location);
        if (model.Kdf != Kdf || !PassphraseKey.AcceptsIterations(model.Iterations) || model.Salt is null || model.Verifier is null)
        {
            throw CredentialErrors.Corrupt(Location, "has key parameters this Ceso does not accept");
        }

        var key = Key(passphrase, model.Salt, model.Iterations);
        byte[]? verified;
        try
        {
            verified = PassphraseKey.Open(key, Convert.FromBase64String(model.Verifier), VerifierBinding);
        }
        catch (FormatException e)
        {
            throw CredentialErrors.Corrupt(Location, "has a verifier that is not base64", e);
        }

        return verified is not null && verified.AsSpan().SequenceEqual(VerifierText) ? key : throw CredentialErrors.PassphraseWrong(Location);
    }

    private byte[] Key(string passphrase, string salt, int iterations)
    {
        if (_derived is { } d && d.Salt == salt && d.Iterations == iterations) return d.Key;
        byte[] saltBytes;
        try
        {
            saltBytes = Convert.FromBase64String(salt);
        }
        catch (FormatException e)
        {
            throw CredentialErrors.Corrupt(Location, "has a salt that is not base64", e);
        }

        var key = PassphraseKey.Derive(passphrase, saltBytes, iterations);
        _derived = (salt, iterations, key);
        return key;
    }

    private static void Check(string name)
    {
        if (!CredentialSecret.IsValidName(name)) throw CredentialErrors.NameInvalid(name);
    }
}
