using Ceso.Engine.Hosts;
using Ceso.Engine.Soap;
using Ceso.Engine.Ssh;

namespace Ceso.Engine.Connection;

/// <summary>
/// An open connection to one host: a logged-in SOAP client and/or a persistent SSH shell, and the one
/// <see cref="HostAdapter"/> built over them. Made by <see cref="SessionFactory"/>.
/// </summary>
public sealed class CesoSession : IAsyncDisposable
{
    internal CesoSession(ConnectionProfile profile, VimClient? soap, ServiceContent? content, SshSession? ssh, HostAdapter host, string? thumbprint, bool thumbprintNew, string? soapFallbackReason)
    {
        Profile = profile;
        Soap = soap;
        ServiceContent = content;
        Ssh = ssh;
        Thumbprint = thumbprint;
        ThumbprintNewlyPinned = thumbprintNew;
        SoapFallbackReason = soapFallbackReason;
        Host = host;
    }

    /// <summary>Unique id of this session.</summary>
    public Guid Id { get; } = Guid.NewGuid();

    /// <summary>The server name (as given).</summary>
    public string Server => Profile.Server;

    /// <summary>How the session was made.</summary>
    public ConnectionProfile Profile { get; }

    /// <summary>The SOAP client, when the API is in use.</summary>
    public VimClient? Soap { get; }

    /// <summary>The host's ServiceContent, when the API is in use.</summary>
    public ServiceContent? ServiceContent { get; }

    /// <summary>The persistent SSH shell, when SSH is in use.</summary>
    public SshSession? Ssh { get; }

    /// <summary>The host adapter: inventory, commands and files, on the transports the session's one rule chose.</summary>
    public HostAdapter Host { get; }

    /// <summary>The inventory that answers reads (SOAP unless the transport is Ssh or the API is unreachable).</summary>
    public IHostInventory Inventory => Host.Inventory;

    /// <summary>Files on the host's datastores (ranged read streams, stream writes): read on the same transport as <see cref="Inventory"/>, written over SSH once a free license refused the API.</summary>
    public IHostFiles Files => Host.Files;

    /// <summary>The transport that answers reads now.</summary>
    public Transport ActiveTransport => Inventory.Transport;

    /// <summary>The host's product version from the API (e.g. "8.0.2"), or null for an SSH-only session.</summary>
    public string? HostVersion => ServiceContent?.Version;

    /// <summary>SHA-256 thumbprint of the host's certificate.</summary>
    public string? Thumbprint { get; }

    /// <summary>True when this connection pinned the thumbprint for the first time (the cmdlet warns).</summary>
    public bool ThumbprintNewlyPinned { get; }

    /// <summary>Why SOAP was not used in Auto mode, when it was not.</summary>
    public string? SoapFallbackReason { get; }

    /// <summary>When the session was opened (UTC).</summary>
    public DateTimeOffset ConnectedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>The SSH certificate the session logged in with (checked valid when it connected), or null.</summary>
    public Ssh.SshCertificate? SshCertificate { get; init; }

    /// <summary>Closes the SOAP session and the SSH shell.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Soap is not null && ServiceContent is not null)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await Soap.LogoutAsync(ServiceContent.SessionManager, cts.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is CesoException or OperationCanceledException or HttpRequestException)
            {
                // the host is gone or the session expired: nothing to close
            }

            Soap.Dispose();
        }

        if (Ssh is not null)
        {
            await Ssh.DisposeAsync().ConfigureAwait(false);
        }
    }
}
