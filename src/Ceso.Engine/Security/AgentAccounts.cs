using System.Text.Json;
using System.Text.Json.Serialization;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Security.Credentials;

namespace Ceso.Engine.Security;

/// <summary>An agent's account on a host, as New-CesoAgentAccount writes it (the password is never part of it: it is in the credential store).</summary>
/// <param name="Agent">The agent's name (CESO_AGENT).</param>
/// <param name="Server">The host.</param>
/// <param name="User">The ESXi local user.</param>
/// <param name="Role">Its role on the host's root folder (ReadOnly).</param>
/// <param name="NoAccessVm">The protected VMs it has No Access on.</param>
/// <param name="CredentialPath">The agent's credential file (readable by the OS user only; the password is in the credential store as <c>agent:&lt;agent&gt;</c>).</param>
/// <param name="CreatedAt">When.</param>
public sealed record AgentAccount(string Agent, string Server, string User, string Role, IReadOnlyList<string> NoAccessVm, string CredentialPath, DateTimeOffset CreatedAt);

/// <summary>What the agent logs in with, and where its account has permissions (so removing it removes exactly those).</summary>
/// <param name="Agent">The agent.</param>
/// <param name="Server">The host.</param>
/// <param name="User">The ESXi user.</param>
/// <param name="Password">Its password.</param>
/// <param name="CreatedAt">When.</param>
/// <param name="NoAccess">The VMs (type, id, name) given No Access.</param>
public sealed record AgentCredential(string Agent, string Server, string User, string Password, DateTimeOffset CreatedAt, IReadOnlyList<PermissionEntity> NoAccess);

/// <summary>
/// The agents' credentials: the password in the one credential store (entry <c>agent:&lt;agent&gt;</c>, a Credential
/// with the ESXi user; the store CESO_CREDENTIAL_STORE chooses, see <see cref="CredentialStores"/>), everything else
/// in $CESO_HOME/agents/&lt;agent&gt;.credential.json (server, user, when, the No Access VMs; created 0600, no secret).
/// A file written before the store (with its password in the clear) is migrated when read: the password is saved in
/// the store and the file rewritten without it. A store that cannot be used (no passphrase for the encrypted file, no
/// session bus) is its error (<c>CredentialStoreLocked</c>, <c>CredentialStoreUnavailable</c>), never a fallback to
/// plaintext. Anyone running as this OS user — the agent too — can read the store's entry, which is the point (the
/// agent logs in with it) and also why it is not a secret from the agent.
/// </summary>
/// <param name="home">The home; its <see cref="CesoHome.CredentialSettings"/> choose and unlock the store.</param>
/// <param name="store">The store to use instead of the one the settings choose (tests).</param>
public sealed class AgentCredentialStore(CesoHome home, ICredentialStore? store = null)
{
    /// <summary>The prefix of an agent's entry in the credential store.</summary>
    public const string EntryPrefix = "agent:";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>The agent's entry name in the credential store: <c>agent:&lt;agent in lower case&gt;</c>.</summary>
    public static string EntryName(string agent) => EntryPrefix + agent.ToLowerInvariant();

    /// <summary>The agent's credential file (no secret in it).</summary>
    public string PathOf(string agent) => home.File("agents", agent.ToLowerInvariant() + ".credential.json");

    /// <summary>
    /// The store the agents' passwords go to, opened; the encrypted file without a passphrase is
    /// <c>CredentialStoreLocked</c> here already, so that a caller can refuse before it changes anything on a host.
    /// </summary>
    public async Task<ICredentialStore> OpenAsync(CancellationToken ct)
    {
        var opened = store ?? await CredentialStores.OpenAsync(home, home.CredentialSettings ?? new CredentialStoreSettings(null, null, null, null), ct).ConfigureAwait(false);
        return opened is EncryptedFileCredentialStore { HasPassphrase: false } ? throw CredentialErrors.Locked(opened.Location) : opened;
    }

    /// <summary>Saves the password in the credential store, then the rest in the agent's file (readable and writable by the OS user only).</summary>
    public async Task SaveAsync(AgentCredential credential, CancellationToken ct)
    {
        var opened = await OpenAsync(ct).ConfigureAwait(false);
        await opened.SaveAsync(Secret(credential), ct).ConfigureAwait(false);
        WriteFile(PathOf(credential.Agent), AgentCredentialFile.Of(credential, opened.Kind));
    }

    /// <summary>
    /// The agent's account as its file records it — user, server, the VMs given No Access — without opening the
    /// credential store (its Password is empty), or null when it has no file: what removing the account or a grant on
    /// the host needs, so a person can do both while the store is locked or gone.
    /// </summary>
    public async Task<AgentCredential?> ReadAccountAsync(string agent, CancellationToken ct) =>
        await ReadFileAsync(agent, ct).ConfigureAwait(false) is { } file ? file.ToCredential("") : null;

    private async Task<AgentCredentialFile?> ReadFileAsync(string agent, CancellationToken ct)
    {
        var path = PathOf(agent);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<AgentCredentialFile>(await File.ReadAllTextAsync(path, ct).ConfigureAwait(false))
                ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new CesoException("AgentCredentialCorrupt", CesoErrorKind.InvalidState,
                $"The credential file of agent '{agent}' ({path}) is not valid JSON; it was changed outside Ceso or damaged. A person removes the account (Remove-CesoAgentAccount) and creates it again.", e)
            { Target = agent };
        }
    }

    /// <summary>The agent's credential (the password from the store), or null when it has no file; migrates a file that still holds its password.</summary>
    public async Task<AgentCredential?> ReadAsync(string agent, CancellationToken ct)
    {
        var path = PathOf(agent);
        if (await ReadFileAsync(agent, ct).ConfigureAwait(false) is not { } file)
        {
            return null;
        }

        var opened = await OpenAsync(ct).ConfigureAwait(false);
        if (file.Password is { Length: > 0 } clear)
        {
            // Written before the credential store: the password moves into the store, then leaves the file.
            var credential = file.ToCredential(clear);
            await opened.SaveAsync(Secret(credential), ct).ConfigureAwait(false);
            WriteFile(path, AgentCredentialFile.Of(credential, opened.Kind));
            return credential;
        }

        var entry = EntryName(agent);
        var saved = await opened.LoadAsync(entry, ct).ConfigureAwait(false) ?? throw new CesoException("AgentCredentialNotFound", CesoErrorKind.NotFound,
            $"Agent '{agent}' has an account ({path}), but the {opened.Kind} credential store ({opened.Location}) has no entry '{entry}' with its password " +
            $"(another store chosen by ${CredentialErrors.StoreVariable}, or the entry was removed). Choose the store it was saved in, or have a person remove the account " +
            $"(Remove-CesoAgentAccount -Agent '{agent}') and create it again.")
        { Target = agent };
        return file.ToCredential(saved.Password);
    }

    /// <summary>Removes the agent's entry from the credential store, then its file.</summary>
    public async Task DeleteAsync(string agent, CancellationToken ct)
    {
        var opened = store ?? await CredentialStores.OpenAsync(home, home.CredentialSettings ?? new CredentialStoreSettings(null, null, null, null), ct).ConfigureAwait(false);
        await opened.RemoveAsync(EntryName(agent), ct).ConfigureAwait(false); // removing needs no passphrase
        File.Delete(PathOf(agent));
    }

    /// <summary><see cref="SaveAsync"/> for synchronous callers (a plan step's body).</summary>
    public void Save(AgentCredential credential) => SaveAsync(credential, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary><see cref="ReadAsync"/> for synchronous callers (planning).</summary>
    public AgentCredential? Read(string agent) => ReadAsync(agent, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary><see cref="DeleteAsync"/> for synchronous callers (a plan step's body).</summary>
    public void Delete(string agent) => DeleteAsync(agent, CancellationToken.None).GetAwaiter().GetResult();

    private static CredentialSecret Secret(AgentCredential c) =>
        new(EntryName(c.Agent), CredentialSecret.CredentialKind, c.User, c.Password, c.CreatedAt);

    private static void WriteFile(string path, AgentCredentialFile file)
    {
        var tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using (var stream = new FileStream(tmp, options))
            {
                JsonSerializer.Serialize(stream, file, Json);
            }

            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>The JSON of an agent's credential file.</summary>
    /// <param name="Agent">The agent.</param>
    /// <param name="Server">The host.</param>
    /// <param name="User">The ESXi user.</param>
    /// <param name="CreatedAt">When.</param>
    /// <param name="NoAccess">The VMs given No Access.</param>
    /// <param name="Password">Only in files written before the credential store; migrated on read.</param>
    /// <param name="CredentialName">The store's entry that holds the password.</param>
    /// <param name="CredentialStore">The store's kind when it was saved (file, secret-service, dpapi, keychain).</param>
    private sealed record AgentCredentialFile(string Agent, string Server, string User, DateTimeOffset CreatedAt, IReadOnlyList<PermissionEntity> NoAccess,
        string? Password = null, string? CredentialName = null, string? CredentialStore = null)
    {
        public static AgentCredentialFile Of(AgentCredential c, string store) =>
            new(c.Agent, c.Server, c.User, c.CreatedAt, c.NoAccess, null, EntryName(c.Agent), store);

        public AgentCredential ToCredential(string password) => new(Agent, Server, User, password, CreatedAt, NoAccess ?? []);
    }
}

/// <summary>What a host-side grant put on the host, so that revoking it removes exactly that.</summary>
/// <param name="GrantId">The grant (Get-CesoAgentAccess).</param>
/// <param name="Agent">The agent.</param>
/// <param name="Server">The host.</param>
/// <param name="User">The agent's ESXi user.</param>
/// <param name="Role">The operator role given.</param>
/// <param name="Entities">Where (the root folder, or the VMs the grant named).</param>
/// <param name="Script">The removal script on the host (/vmfs/volumes/…/.ceso-grant-&lt;id&gt;.sh).</param>
/// <param name="ExpiresAt">When the host removes the permission by itself.</param>
public sealed record HostGrantRecord(string GrantId, string Agent, string Server, string User, string Role, IReadOnlyList<PermissionEntity> Entities, string Script, DateTimeOffset ExpiresAt);

/// <summary>The records of host-side grants: $CESO_HOME/agents/host-grants/&lt;id&gt;.json.</summary>
public sealed class HostGrantStore(CesoHome home)
{
    /// <summary>The record's file.</summary>
    public string PathOf(string grantId) => home.File("agents", "host-grants", grantId.ToLowerInvariant() + ".json");

    /// <summary>Stores a record.</summary>
    public void Save(HostGrantRecord record) => CesoHome.WriteAtomic(PathOf(record.GrantId), JsonSerializer.Serialize(record));

    /// <summary>The record of a grant, or null when it had no host side.</summary>
    public HostGrantRecord? Read(string grantId) =>
        File.Exists(PathOf(grantId)) ? JsonSerializer.Deserialize<HostGrantRecord>(File.ReadAllText(PathOf(grantId))) : null;

    /// <summary>Deletes a record.</summary>
    public void Delete(string grantId) => File.Delete(PathOf(grantId));
}
