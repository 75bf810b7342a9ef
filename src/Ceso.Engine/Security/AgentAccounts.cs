using System.Text.Json;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;

namespace Ceso.Engine.Security;

/// <summary>An agent's account on a host, as New-CesoAgentAccount writes it (the password is never part of it).</summary>
/// <param name="Agent">The agent's name (CESO_AGENT).</param>
/// <param name="Server">The host.</param>
/// <param name="User">The ESXi local user.</param>
/// <param name="Role">Its role on the host's root folder (ReadOnly).</param>
/// <param name="NoAccessVm">The protected VMs it has No Access on.</param>
/// <param name="CredentialPath">Where the credential is stored for the agent (readable by the OS user only).</param>
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
/// The agents' credentials, one file each: $CESO_HOME/agents/&lt;agent&gt;.credential.json, created 0600 (the OS user
/// only). A stop-gap until the OS keyring store replaces it (docs/security.md): anyone running as this OS user — the
/// agent too — can read it, which is the point (the agent logs in with it) and also why it is not a secret from the agent.
/// </summary>
public sealed class AgentCredentialStore(CesoHome home)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>The agent's credential file.</summary>
    public string PathOf(string agent) => home.File("agents", agent.ToLowerInvariant() + ".credential.json");

    /// <summary>Writes the credential, readable and writable by the OS user only.</summary>
    public void Save(AgentCredential credential)
    {
        var path = PathOf(credential.Agent);
        var tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(tmp, options))
        {
            JsonSerializer.Serialize(stream, credential, Json);
        }

        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The agent's credential, or null when it has none.</summary>
    public AgentCredential? Read(string agent)
    {
        var path = PathOf(agent);
        return File.Exists(path) ? JsonSerializer.Deserialize<AgentCredential>(File.ReadAllText(path)) : null;
    }

    /// <summary>Deletes the agent's credential file.</summary>
    public void Delete(string agent) => File.Delete(PathOf(agent));
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
