using Ceso.Engine.Connection;

namespace Ceso.PowerShell;

/// <summary>
/// What <c>-Server</c> binds to: a server name (<c>-Server esx01</c>), a session id, or a Connect-CesoServer /
/// Get-CesoServer result (<c>Get-CesoServer | Disconnect-CesoServer</c>). PowerShell converts through the constructors.
/// </summary>
public sealed class ServerIdentity
{
    /// <summary>A server name as given to Connect-CesoServer, or a session id in its string form.</summary>
    public ServerIdentity(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Id = Guid.TryParse(name, out var id) ? id : null;
    }

    /// <summary>The session a Connect-CesoServer or Get-CesoServer result describes.</summary>
    public ServerIdentity(CesoServerInfo server)
    {
        ArgumentNullException.ThrowIfNull(server);
        Name = server.Name;
        Id = server.Id;
    }

    /// <summary>An engine session.</summary>
    public ServerIdentity(CesoSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        Name = session.Server;
        Id = session.Id;
    }

    /// <summary>The server name.</summary>
    public string Name { get; }

    /// <summary>The session id, when the identity names one session.</summary>
    public Guid? Id { get; }

    /// <summary>The server name.</summary>
    public override string ToString() => Name;
}
