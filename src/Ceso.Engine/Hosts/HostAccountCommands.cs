using System.Globalization;
using System.Xml.Linq;
using Ceso.Engine.Shell;
using Ceso.Engine.Soap;
using Ceso.Engine.Ssh;

namespace Ceso.Engine.Hosts;

/// <summary>
/// What a permission is set on: the host's root folder (ha-folder-root, which every object inherits from) or one VM.
/// </summary>
/// <param name="Type">Folder or VirtualMachine (the vSphere type).</param>
/// <param name="Id">ha-folder-root, or the vmid.</param>
/// <param name="Name">The VM's name, or ha-folder-root.</param>
public sealed record PermissionEntity(string Type, string Id, string Name)
{
    /// <summary>The host's root folder: a permission there propagates to every VM, datastore and network.</summary>
    public static PermissionEntity HostRoot { get; } = new("Folder", "ha-folder-root", "ha-folder-root");

    /// <summary>A VM by its id.</summary>
    public static PermissionEntity Vm(string id, string name) => new("VirtualMachine", id, name);

    /// <summary>How messages name it: "the host", "VM 'web01'".</summary>
    public string Display => Type == "Folder" ? "the host" : $"VM '{Name}'";

    /// <summary>How vim-cmd names it: <c>vim.Folder:ha-folder-root</c>, <c>vim.VirtualMachine:9</c>.</summary>
    public string VimCmd => $"vim.{Type}:{Id}";
}

/// <summary>
/// Local users, roles and permissions of one standalone host, over one transport (SOAP: HostLocalAccountManager and
/// AuthorizationManager; SSH: esxcli system account and vim-cmd vimsvc/auth). Each change is a <see cref="HostCall"/>,
/// so plans show the exact call; a password never appears in a call's text.
/// </summary>
public interface IHostAccountCommands
{
    /// <summary>ssh or soap.</summary>
    string Transport { get; }

    /// <summary>The names and ids of the host's roles (a read).</summary>
    Task<IReadOnlyDictionary<string, int>> RolesAsync(CancellationToken ct);

    /// <summary>Creates a local user without shell access.</summary>
    HostCall CreateUser(string user, string password, string description);

    /// <summary>Removes a local user.</summary>
    HostCall RemoveUser(string user);

    /// <summary>Adds a role with these privileges.</summary>
    HostCall AddRole(string role, IReadOnlyList<string> privileges);

    /// <summary>Gives the user the role on the entity (replacing the user's permission there); propagating to what the entity holds.</summary>
    HostCall SetPermission(PermissionEntity entity, string user, string role, Func<int> roleId, bool propagate);

    /// <summary>Removes the user's permission on the entity.</summary>
    HostCall RemovePermission(PermissionEntity entity, string user);
}

/// <summary>Accounts and permissions through the vSphere API (the fixed morefs of standalone hostd).</summary>
public sealed class SoapHostAccountCommands(VimClient client, ServiceContent content) : IHostAccountCommands
{
    private static readonly XNamespace Vim = "urn:vim25";
    private static readonly XNamespace Xsi = "http://www.w3.org/2001/XMLSchema-instance";

    /// <inheritdoc />
    public string Transport => "soap";

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, int>> RolesAsync(CancellationToken ct)
    {
        var objects = await client.RetrievePropertiesAsync(content.PropertyCollector, [new PropertySpec("AuthorizationManager", ["roleList"])],
            [new ObjectSpec(StandaloneHost.AuthorizationManager, false)], ct).ConfigureAwait(false);
        var roles = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var role in objects.SelectMany(o => o.Properties.TryGetValue("roleList", out var l) ? l.AsList() : []))
        {
            if (role.String("name") is { } name && int.TryParse(role.String("roleId"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var id))
            {
                roles[name] = id;
            }
        }

        return roles;
    }

    /// <inheritdoc />
    public HostCall CreateUser(string user, string password, string description) =>
        new(Transport, $"CreateUser(user.id=\"{user}\", user.password=<redacted>, user.description=\"{description}\", user.shellAccess=false)",
            ct => client.InvokeAsync("CreateUser", StandaloneHost.AccountManager,
                [new XElement(Vim + "user", new XAttribute(Xsi + "type", "HostPosixAccountSpec"),
                    new XElement(Vim + "id", user), new XElement(Vim + "password", password), new XElement(Vim + "description", description),
                    new XElement(Vim + "shellAccess", "false"))], ct));

    /// <inheritdoc />
    public HostCall RemoveUser(string user) =>
        new(Transport, $"RemoveUser(userName=\"{user}\")",
            ct => client.InvokeAsync("RemoveUser", StandaloneHost.AccountManager, [new XElement(Vim + "userName", user)], ct));

    /// <inheritdoc />
    public HostCall AddRole(string role, IReadOnlyList<string> privileges) =>
        new(Transport, $"AddAuthorizationRole(name=\"{role}\", privIds=[{string.Join(", ", privileges)}])",
            ct => client.InvokeAsync("AddAuthorizationRole", StandaloneHost.AuthorizationManager,
                [new XElement(Vim + "name", role), .. privileges.Select(p => new XElement(Vim + "privIds", p))], ct));

    /// <inheritdoc />
    public HostCall SetPermission(PermissionEntity entity, string user, string role, Func<int> roleId, bool propagate) =>
        new(Transport, $"SetEntityPermissions(entity={entity.Type}:{entity.Id}, principal=\"{user}\", group=false, role={role}, propagate={(propagate ? "true" : "false")})",
            ct => client.InvokeAsync("SetEntityPermissions", StandaloneHost.AuthorizationManager,
                [VimClient.RefElement("entity", new MoRef(entity.Type, entity.Id)),
                 new XElement(Vim + "permission",
                    new XElement(Vim + "principal", user), new XElement(Vim + "group", "false"),
                    new XElement(Vim + "roleId", roleId().ToString(CultureInfo.InvariantCulture)), new XElement(Vim + "propagate", propagate ? "true" : "false"))], ct));

    /// <inheritdoc />
    public HostCall RemovePermission(PermissionEntity entity, string user) =>
        new(Transport, $"RemoveEntityPermission(entity={entity.Type}:{entity.Id}, user=\"{user}\", isGroup=false)",
            ct => client.InvokeAsync("RemoveEntityPermission", StandaloneHost.AuthorizationManager,
                [VimClient.RefElement("entity", new MoRef(entity.Type, entity.Id)), new XElement(Vim + "user", user), new XElement(Vim + "isGroup", "false")], ct));
}

/// <summary>
/// Accounts and permissions over SSH: <c>esxcli system account add|remove</c> and <c>vim-cmd vimsvc/auth/…</c>
/// (entity_permission_add|remove, role_add). esxcli takes the password on its command line, so the shown text has a
/// placeholder and the shell history of the host (ESXi's shell.log) may hold it: prefer the API for accounts.
/// </summary>
public sealed class SshHostAccountCommands(SshSession ssh, string server) : IHostAccountCommands
{
    /// <inheritdoc />
    public string Transport => "ssh";

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, int>> RolesAsync(CancellationToken ct)
    {
        // vim-cmd names roles; their ids are not needed over SSH. `vimsvc/auth/roles` lists them (name = "…").
        var r = (await ssh.RunAsync(ShellQuote.Join("vim-cmd", "vimsvc/auth/roles"), ct).ConfigureAwait(false)).EnsureVimCmdSuccess(server);
        var roles = new Dictionary<string, int>(StringComparer.Ordinal);
        var parsed = Vmodl.VmodlTextParser.Parse(r.Stdout);
        foreach (var role in parsed.AsList())
        {
            if (role.String("name") is { } name && int.TryParse(role.String("roleId"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var id))
            {
                roles[name] = id;
            }
        }

        return roles;
    }

    private HostCall Call(string program, params string[] args)
    {
        var line = ShellQuote.Join(program, args);
        return new HostCall(Transport, line, async ct => (await ssh.RunAsync(line, ct).ConfigureAwait(false)).EnsureVimCmdSuccess(server));
    }

    /// <inheritdoc />
    public HostCall CreateUser(string user, string password, string description)
    {
        string Line(string p) => ShellQuote.Join("esxcli", "system", "account", "add", "-i", user, "-p", p, "-c", p, "-d", description);
        var shown = Line("<redacted>");
        return new HostCall(Transport, shown, async ct => (await ssh.RunAsync(Line(password), ct).ConfigureAwait(false)).EnsureSuccess(server, shown));
    }

    /// <inheritdoc />
    public HostCall RemoveUser(string user) => Call("esxcli", "system", "account", "remove", "-i", user);

    /// <inheritdoc />
    public HostCall AddRole(string role, IReadOnlyList<string> privileges) => Call("vim-cmd", ["vimsvc/auth/role_add", role, .. privileges]);

    /// <inheritdoc />
    public HostCall SetPermission(PermissionEntity entity, string user, string role, Func<int> roleId, bool propagate) =>
        Call("vim-cmd", "vimsvc/auth/entity_permission_add", entity.VimCmd, user, "false", role, propagate ? "true" : "false");

    /// <inheritdoc />
    public HostCall RemovePermission(PermissionEntity entity, string user) =>
        Call("vim-cmd", "vimsvc/auth/entity_permission_remove", entity.VimCmd, user, "false");
}
