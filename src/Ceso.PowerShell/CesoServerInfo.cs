using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;

namespace Ceso.PowerShell;

/// <summary>
/// An open Ceso session as Connect-CesoServer and Get-CesoServer show it: a snapshot taken when it was written
/// (<see cref="IsDefault"/> is true when it was the default session at that moment).
/// </summary>
public sealed record CesoServerInfo
{
    /// <summary>The server name as given to Connect-CesoServer.</summary>
    public required string Name { get; init; }

    /// <summary>The transport that answers reads: Soap or Ssh (a string, so ConvertTo-Json writes the name).</summary>
    public required string Transport { get; init; }

    /// <summary>Whether a vSphere API (SOAP) session is open.</summary>
    public required bool SoapConnected { get; init; }

    /// <summary>Whether a persistent SSH shell is open.</summary>
    public required bool SshConnected { get; init; }

    /// <summary>The ESXi version, e.g. 8.0.2, when known.</summary>
    public string? Version { get; init; }

    /// <summary>SHA-256 thumbprint of the host's TLS certificate (SOAP sessions).</summary>
    public string? Thumbprint { get; init; }

    /// <summary>When the session was opened (UTC).</summary>
    public required DateTimeOffset ConnectedAt { get; init; }

    /// <summary>Whether this was the default session when the object was written.</summary>
    public required bool IsDefault { get; init; }

    /// <summary>Unique id of the session; <c>-Server</c> accepts it.</summary>
    public required Guid Id { get; init; }

    /// <summary>The key id of the SSH certificate the session logged in with, or null (a plain key or agent).</summary>
    public string? SshCertificateKeyId { get; init; }

    /// <summary>When that certificate expires (UTC); the session's new SSH connections fail after it.</summary>
    public DateTimeOffset? SshCertificateValidTo { get; init; }

    /// <summary>Describes a session.</summary>
    public static CesoServerInfo From(CesoSession session, string? version, bool isDefault) => new()
    {
        Name = session.Server,
        Transport = session.ActiveTransport.ToString(),
        SoapConnected = session.Soap is not null,
        SshConnected = session.Ssh is not null,
        Version = version,
        Thumbprint = string.IsNullOrEmpty(session.Thumbprint) ? null : session.Thumbprint,
        ConnectedAt = session.ConnectedAt,
        IsDefault = isDefault,
        Id = session.Id,
        SshCertificateKeyId = session.SshCertificate?.KeyId,
        SshCertificateValidTo = session.SshCertificate?.ValidTo,
    };

    /// <summary>The server name.</summary>
    public override string ToString() => Name;
}
