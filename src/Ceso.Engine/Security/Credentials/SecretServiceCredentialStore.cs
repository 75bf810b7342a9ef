namespace Ceso.Engine.Security.Credentials;

/// <summary>
/// Credentials in the Linux Secret Service (gnome-keyring, KeePassXC, KWallet's bridge) through libsecret's
/// <c>secret-tool</c>. Items carry the attributes <c>application=ceso</c> and <c>ceso-name=&lt;name&gt;</c>; the
/// secret is <see cref="CredentialSecret.ToPayload"/>'s line, written to secret-tool's stdin and read from its stdout,
/// never an argument.
/// </summary>
public sealed class SecretServiceCredentialStore : ICredentialStore
{
    /// <summary>The kind name (CESO_CREDENTIAL_STORE=secret-service).</summary>
    public const string KindName = "secret-service";

    private const string Application = "ceso";
    private readonly CredentialTool _tool;

    /// <summary>A store that runs <paramref name="secretTool"/>.</summary>
    /// <param name="secretTool">The secret-tool executable.</param>
    /// <param name="environment">Variables for the tool's process (DBUS_SESSION_BUS_ADDRESS), besides the inherited ones.</param>
    /// <param name="timeout">How long one call may take (a locked keyring waits for a prompt). Default 30 s.</param>
    public SecretServiceCredentialStore(string secretTool, IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null) =>
        _tool = new CredentialTool(secretTool, KindName, environment, timeout ?? TimeSpan.FromSeconds(30));

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <inheritdoc/>
    public string Location => "the Secret Service (D-Bus)";

    /// <summary>True when the Secret Service answers a search (without unlocking anything), within a few seconds.</summary>
    public async Task<bool> AnswersAsync(CancellationToken ct)
    {
        try
        {
            var probe = _tool.WithTimeout(TimeSpan.FromSeconds(5));
            return (await probe.RunAsync(["search", "application", "ceso-probe"], null, ct).ConfigureAwait(false)).ExitCode == 0;
        }
        catch (CesoException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    public async Task SaveAsync(CredentialSecret secret, CancellationToken ct)
    {
        Check(secret.Name);
        // The same attributes replace the item that has them (Secret Service CreateItem with replace).
        var r = await _tool.RunAsync(["store", $"--label=Ceso credential '{secret.Name}'", "application", Application, "ceso-name", secret.Name], secret.ToPayload(), ct).ConfigureAwait(false);
        if (r.ExitCode != 0) throw Failed("store", r);
    }

    /// <inheritdoc/>
    public async Task<CredentialSecret?> LoadAsync(string name, CancellationToken ct)
    {
        Check(name);
        var r = await _tool.RunAsync(["lookup", "application", Application, "ceso-name", name], null, ct).ConfigureAwait(false);
        if (r.ExitCode == 1 && r.Stdout.Length == 0 && string.IsNullOrWhiteSpace(r.Stderr)) return null;
        if (r.ExitCode != 0) throw Failed("lookup", r);
        return CredentialSecret.FromPayload(name, r.Stdout) ?? throw CredentialErrors.Corrupt($"{Location} (item '{name}')", "holds a secret Ceso did not write");
    }

    /// <inheritdoc/>
    public async Task<bool> RemoveAsync(string name, CancellationToken ct)
    {
        Check(name);
        var r = await _tool.RunAsync(["clear", "application", Application, "ceso-name", name], null, ct).ConfigureAwait(false);
        if (r.ExitCode == 1 && string.IsNullOrWhiteSpace(r.Stderr)) return false; // nothing matched
        if (r.ExitCode != 0) throw Failed("clear", r);
        return true;
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<CesoCredential>> ListAsync(CancellationToken ct)
    {
        // secret-tool prints label, secret, created, modified and schema per item on stdout (the attributes go to
        // stderr); the payload line carries the metadata. The secret is read here and dropped at once.
        var r = await _tool.RunAsync(["search", "--all", "application", Application], null, ct).ConfigureAwait(false);
        if (r.ExitCode != 0) throw Failed("search", r);
        var found = new List<CesoCredential>();
        string? label = null;
        foreach (var line in r.Stdout.Split('\n'))
        {
            if (line.StartsWith("label = ", StringComparison.Ordinal))
            {
                label = line["label = ".Length..];
            }
            else if (line.StartsWith("secret = ", StringComparison.Ordinal) && label is not null && NameOf(label) is { } name &&
                     CredentialSecret.FromPayload(name, line["secret = ".Length..]) is { } secret)
            {
                found.Add(secret.Describe(Kind));
            }
        }

        return found.OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
    }

    private static string? NameOf(string label) =>
        label.StartsWith("Ceso credential '", StringComparison.Ordinal) && label.EndsWith('\'') ? label["Ceso credential '".Length..^1] : null;

    private CesoException Failed(string verb, ToolResult r) =>
        CredentialErrors.Unavailable(KindName, $"secret-tool {verb} exited with {r.ExitCode}: {r.Stderr.Trim()}. Is a Secret Service (gnome-keyring, KeePassXC) running and " +
            "unlocked on this session's D-Bus (DBUS_SESSION_BUS_ADDRESS)? Otherwise use the encrypted file: $env:CESO_CREDENTIAL_STORE = 'file' with $env:CESO_CREDENTIAL_PASSPHRASE.");

    private static void Check(string name)
    {
        if (!CredentialSecret.IsValidName(name)) throw CredentialErrors.NameInvalid(name);
    }
}
