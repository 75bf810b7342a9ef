namespace Ceso.Engine.Security.Credentials;

/// <summary>
/// macOS: credentials as generic passwords in the user's login Keychain (service <c>ceso</c>, account = the entry's
/// name) through <c>/usr/bin/security</c>. The secret is written with <c>security -i</c>, whose commands come on stdin
/// (an <c>add-generic-password -w</c> argument would show in the process list), and read with
/// <c>find-generic-password -w</c> on stdout. The secret is <see cref="CredentialSecret.ToPayload"/>'s line (no quote or
/// space, so security's command parser takes it as one word). Names and metadata are also kept in an index file
/// ($CESO_HOME/credentials.keychain.json, no secrets) so that listing needs no keychain dump. Untested here (no macOS on
/// the build machines): see docs/security.md.
/// </summary>
public sealed class KeychainCredentialStore : ICredentialStore
{
    /// <summary>The kind name (CESO_CREDENTIAL_STORE=keychain).</summary>
    public const string KindName = "keychain";

    /// <summary>The security tool of macOS.</summary>
    public const string SecurityTool = "/usr/bin/security";

    private const string Service = "ceso";
    private const int ItemNotFound = 44; // errSecItemNotFound as security's exit code
    private readonly CredentialTool _tool;
    private readonly CredentialFile _index;

    /// <summary>A store whose index file is <paramref name="indexPath"/>.</summary>
    public KeychainCredentialStore(string indexPath, string securityTool = SecurityTool, TimeSpan? timeout = null)
    {
        _tool = new CredentialTool(securityTool, KindName, null, timeout ?? TimeSpan.FromSeconds(30));
        _index = new CredentialFile(indexPath);
    }

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <inheritdoc/>
    public string Location => "the login Keychain";

    /// <inheritdoc/>
    public async Task SaveAsync(CredentialSecret secret, CancellationToken ct)
    {
        Check(secret.Name);
        var command = $"add-generic-password -U -s {Service} -a {secret.Name} -w {secret.ToPayload()}\n";
        var r = await _tool.RunAsync(["-i"], command, ct).ConfigureAwait(false);
        // security -i exits 0 even when a command failed; the failure is its stderr.
        if (r.ExitCode != 0 || !string.IsNullOrWhiteSpace(r.Stderr)) throw Failed("add-generic-password", r);
        await _index.UpdateAsync(current => ((current ?? new CredentialFileModel { Kdf = "index" }).With(new CredentialFileEntry
        {
            Name = secret.Name,
            Kind = secret.Kind,
            UserName = secret.UserName,
            SavedAt = secret.SavedAt,
        }), true), ct).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<CredentialSecret?> LoadAsync(string name, CancellationToken ct)
    {
        Check(name);
        var r = await _tool.RunAsync(["find-generic-password", "-s", Service, "-a", name, "-w"], null, ct).ConfigureAwait(false);
        if (r.ExitCode == ItemNotFound) return null;
        if (r.ExitCode != 0) throw Failed("find-generic-password", r);
        return CredentialSecret.FromPayload(name, r.Stdout) ?? throw CredentialErrors.Corrupt($"{Location} (item '{name}')", "holds a secret Ceso did not write");
    }

    /// <inheritdoc/>
    public async Task<bool> RemoveAsync(string name, CancellationToken ct)
    {
        Check(name);
        var r = await _tool.RunAsync(["delete-generic-password", "-s", Service, "-a", name], null, ct).ConfigureAwait(false);
        if (r.ExitCode != 0 && r.ExitCode != ItemNotFound) throw Failed("delete-generic-password", r);
        var indexed = await _index.UpdateAsync(current =>
            current is null || !current.Entries.Any(e => e.Name == name)
                ? ((CredentialFileModel?)null, false)
                : (current with { Entries = current.Entries.Where(e => e.Name != name).ToList() }, true), ct).ConfigureAwait(false);
        return r.ExitCode == 0 || indexed;
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<CesoCredential>> ListAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<CesoCredential>>((_index.Read()?.Entries ?? []).Select(e => new CesoCredential(e.Name, e.Kind, e.UserName, Kind, e.SavedAt)).ToList());

    private CesoException Failed(string verb, ToolResult r) =>
        CredentialErrors.Unavailable(KindName, $"security {verb} exited with {r.ExitCode}: {r.Stderr.Trim()}. Unlock the login keychain (security unlock-keychain), " +
            "or use the encrypted file: $env:CESO_CREDENTIAL_STORE = 'file' with $env:CESO_CREDENTIAL_PASSPHRASE.");

    private static void Check(string name)
    {
        if (!CredentialSecret.IsValidName(name)) throw CredentialErrors.NameInvalid(name);
    }
}
