using Ceso.Engine.Hosts;

namespace Ceso.Engine.Connection;

/// <summary>Everything needed to reach one standalone ESXi host. Holds the SOAP password only in memory.</summary>
public sealed record ConnectionProfile
{
    /// <summary>Host name or address as the user wrote it; this is the session's name.</summary>
    public required string Server { get; init; }

    /// <summary>HTTPS port of the vSphere API.</summary>
    public int SoapPort { get; init; } = 443;

    /// <summary>SOAP user (root), or null for an SSH-only session.</summary>
    public string? SoapUser { get; init; }

    /// <summary>SOAP password. Never logged, never shown.</summary>
    public string? SoapPassword { get; init; }

    /// <summary>Expected SHA-256 (or SHA-1) thumbprint given up front; overrides the stored pin.</summary>
    public string? Thumbprint { get; init; }

    /// <summary>Accept a certificate that differs from the pinned one and pin it (after the user has verified it).</summary>
    public bool AcceptNewThumbprint { get; init; }

    /// <summary>SSH login user, or null for a SOAP-only session.</summary>
    public string? SshUser { get; init; }

    /// <summary>SSH port.</summary>
    public int SshPort { get; init; } = 22;

    /// <summary>SSH private key; null uses the agent or ~/.ssh/config.</summary>
    public string? SshKeyPath { get; init; }

    /// <summary>OpenSSH certificate for the key.</summary>
    public string? SshCertificatePath { get; init; }

    /// <summary>known_hosts file; null = the user's default.</summary>
    public string? KnownHostsPath { get; init; }

    /// <summary>ssh_config file; null = the user's own; "none" ignores it.</summary>
    public string? SshConfigFile { get; init; }

    /// <summary>Which transport answers reads; writes prefer SOAP and fall back to SSH.</summary>
    public Transport Transport { get; init; } = Transport.Auto;

    /// <summary>Connection timeout for each transport.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Whether the profile can use SOAP.</summary>
    public bool HasSoap => SoapUser is not null;

    /// <summary>Whether the profile can use SSH.</summary>
    public bool HasSsh => SshUser is not null;

    /// <summary>Checks the profile before anything connects; the message says what to add.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Server))
        {
            throw Invalid("Server is empty. Give the ESXi host's name or address, e.g. -Server esx01.lab.local.");
        }

        if (Transport == Transport.Soap && !HasSoap)
        {
            throw Invalid($"-Transport Soap needs a credential for {Server}: add -Credential root.");
        }

        if (Transport == Transport.Ssh && !HasSsh)
        {
            throw Invalid($"-Transport Ssh needs an SSH user for {Server}: add -SshUser root (and -SshKeyPath unless an agent holds the key).");
        }

        if (!HasSoap && !HasSsh)
        {
            throw Invalid($"No way to reach {Server}: give -Credential (vSphere API) and/or -SshUser (SSH).");
        }

        if (SshKeyPath is not null && !File.Exists(SshKeyPath))
        {
            throw Invalid($"The SSH key '{SshKeyPath}' does not exist. Give the path of a private key with -SshKeyPath.");
        }

        if (KnownHostsPath is not null && !File.Exists(KnownHostsPath))
        {
            throw Invalid($"The known_hosts file '{KnownHostsPath}' does not exist. Create it with the host's key (ssh-keyscan -p {SshPort} {Server}) after checking the fingerprint.");
        }

        CesoException Invalid(string m) => new("InvalidConnectionProfile", CesoErrorKind.InvalidArgument, m) { Target = Server };
    }
}
