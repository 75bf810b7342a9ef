using System.Security.Authentication;
using Ceso.Engine.Hosts;
using Ceso.Engine.Soap;
using Ceso.Engine.Ssh;

namespace Ceso.Engine.Connection;

/// <summary>Opens sessions: verifies the TLS certificate against the pinned thumbprint and the SSH host key against known_hosts.</summary>
public sealed class SessionFactory(CesoHome home)
{
    /// <summary>Connects as the profile says. Security failures (thumbprint, host key, login) never fall back to the other transport.</summary>
    public async Task<CesoSession> ConnectAsync(ConnectionProfile profile, CancellationToken ct = default)
    {
        profile.Validate();
        // An expired certificate is said plainly here; the host's sshd would only answer "Permission denied".
        var certificate = profile.HasSsh && profile.Transport != Transport.Soap && profile.SshCertificatePath is { } certPath
            ? Ssh.SshCertificates.CheckForLogin(certPath, profile.SshUser!, DateTimeOffset.UtcNow)
            : null;
        VimClient? soap = null;
        ServiceContent? content = null;
        SshSession? ssh = null;
        string? thumbprint = null, fallback = null;
        var newPin = false;
        try
        {
            if (profile.HasSoap && profile.Transport != Transport.Ssh)
            {
                try
                {
                    (soap, content, thumbprint, newPin) = await ConnectSoapAsync(profile, ct).ConfigureAwait(false);
                }
                catch (CesoException e) when (e.Kind == CesoErrorKind.Connection && profile.Transport == Transport.Auto && profile.HasSsh)
                {
                    fallback = e.Message;
                }
            }

            if (profile.HasSsh && profile.Transport != Transport.Soap)
            {
                ssh = new SshSession(new SshTarget
                {
                    Host = profile.Server,
                    Port = profile.SshPort,
                    User = profile.SshUser!,
                    IdentityFile = profile.SshKeyPath,
                    CertificateFile = profile.SshCertificatePath,
                    KnownHostsFile = profile.KnownHostsPath,
                    ConfigFile = profile.SshConfigFile,
                    ConnectTimeout = profile.ConnectTimeout,
                });
                await ssh.ConnectAsync(ct).ConfigureAwait(false);
            }

            // The one transport rule: built once here, for the whole session.
            var host = HostAdapter.For(profile.Server, soap is not null && content is not null ? (soap, content) : null, ssh);
            return new CesoSession(profile, soap, content, ssh, host, thumbprint, newPin, fallback) { SshCertificate = certificate };
        }
        catch
        {
            soap?.Dispose();
            if (ssh is not null)
            {
                await ssh.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    private async Task<(VimClient, ServiceContent, string, bool)> ConnectSoapAsync(ConnectionProfile profile, CancellationToken ct)
    {
        var endpoint = $"{profile.Server}:{profile.SoapPort}";
        var store = new TlsTrustStore(home);
        var pinned = profile.Thumbprint ?? store.Get(endpoint);
        string? seen256 = null, seen1 = null;
        var url = new UriBuilder("https", profile.Server, profile.SoapPort, "/sdk").Uri;
        var client = new VimClient(url, cert =>
        {
            seen256 = TlsTrustStore.Sha256(cert);
            seen1 = TlsTrustStore.Sha1(cert);
            return pinned is null || profile.AcceptNewThumbprint || TlsTrustStore.Same(pinned, seen256) || TlsTrustStore.Same(pinned, seen1);
        }, connectTimeout: profile.ConnectTimeout);
        try
        {
            ServiceContent content;
            try
            {
                content = await client.RetrieveServiceContentAsync(ct).ConfigureAwait(false);
            }
            catch (CesoException e) when (seen256 is not null && pinned is not null && e.InnerException is HttpRequestException { InnerException: AuthenticationException })
            {
                throw new TlsThumbprintException("TlsThumbprintMismatch",
                    $"The TLS certificate of {endpoint} has thumbprint {seen256} (SHA-1 {seen1}), but {pinned} is pinned; Ceso refused to connect. " +
                    "Someone may be intercepting the connection, or the host's certificate was renewed. Compare with the host's console " +
                    "(openssl x509 -in /etc/vmware/ssl/rui.crt -noout -fingerprint -sha256), then reconnect with -AcceptNewThumbprint.")
                { Host = profile.Server, Target = endpoint };
            }

            await client.LoginAsync(content.SessionManager, profile.SoapUser!, profile.SoapPassword ?? "", ct).ConfigureAwait(false);
            var isNew = seen256 is not null && (pinned is null || !TlsTrustStore.Same(pinned, seen256) && !TlsTrustStore.Same(pinned, seen1!));
            if (seen256 is not null && (isNew || profile.Thumbprint is not null))
            {
                store.Set(endpoint, seen256);
            }

            return (client, content, seen256 ?? "", isNew && pinned is null);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }
}
