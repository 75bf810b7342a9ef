using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.Connection;
using Ceso.Engine.Security.Credentials;
using Ceso.Engine.Hosts;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Opens a session to a standalone ESXi host over the vSphere API (SOAP) and/or SSH.</para>
/// </summary>
/// <remarks>
/// No SupportsShouldProcess: connecting changes nothing on the host, and -WhatIf (or $WhatIfPreference) must still
/// connect so that the -WhatIf previews of later cmdlets can read the host.
/// </remarks>
[Cmdlet(VerbsCommunications.Connect, "CesoServer", DefaultParameterSetName = Default)]
[OutputType(typeof(CesoServerInfo))]
public sealed class ConnectCesoServerCommand : CesoCmdlet
{
    private const string Default = "Default";

    /// <summary>Host name or address of the ESXi host; the session is known by this name.</summary>
    [Parameter(ParameterSetName = Default, Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Server { get; set; } = "";

    /// <summary>User and password for the vSphere API (usually root). Omit for an SSH-only session.</summary>
    [Parameter(ParameterSetName = Default)]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>
    /// The name of a saved credential (Save-CesoCredential) to log in to the vSphere API with, instead of -Credential;
    /// with -Credential and -SaveCredential, the name to save it under (default: the server name).
    /// </summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string? CredentialName { get; set; }

    /// <summary>
    /// The name of a PSCredential secret in PowerShell SecretManagement (Get-Secret) to log in to the vSphere API with,
    /// instead of -Credential or -CredentialName; needs the module Microsoft.PowerShell.SecretManagement and a vault.
    /// The password is masked like a given one.
    /// </summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string? SecretName { get; set; }

    /// <summary>The SecretManagement vault -SecretName is read from; default: the default vault, then every registered vault.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string? Vault { get; set; }

    /// <summary>After a successful login with -Credential, save it in the credential store under -CredentialName (default: the server name).</summary>
    [Parameter(ParameterSetName = Default)]
    public SwitchParameter SaveCredential { get; set; }

    /// <summary>
    /// Log in to the API with the ESXi account New-CesoAgentAccount made for this agent (its stored credential) instead
    /// of -Credential: what an agent's sessions connect with.
    /// </summary>
    [Parameter(ParameterSetName = Default)]
    [ValidatePattern("^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")]
    public string? AgentAccount { get; set; }

    /// <summary>SSH login user. Omit for a SOAP-only session.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string? SshUser { get; set; }

    /// <summary>SSH private key; without it the agent or ssh_config decides.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string? SshKeyPath { get; set; }

    /// <summary>
    /// OpenSSH user certificate for the key (New-CesoSshCertificate issues short-lived ones); checked before connecting:
    /// expired, not yet valid, or not for the SSH user is an error. Its key id goes into every audit record of the session.
    /// </summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    [Alias("SshCertificate")]
    public string? SshCertificatePath { get; set; }

    /// <summary>known_hosts file that holds the host's key; default: the user's own.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string? KnownHostsPath { get; set; }

    /// <summary>ssh_config file; "none" ignores ssh_config.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string? SshConfigFile { get; set; }

    /// <summary>Which transport answers reads: Auto (SOAP, else SSH), Soap or Ssh.</summary>
    [Parameter(ParameterSetName = Default)]
    public Transport Transport { get; set; } = Transport.Auto;

    /// <summary>HTTPS port of the vSphere API.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateRange(1, 65535)]
    public int Port { get; set; } = 443;

    /// <summary>SSH port.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateRange(1, 65535)]
    public int SshPort { get; set; } = 22;

    /// <summary>Expected TLS certificate thumbprint (SHA-256 or SHA-1); it is pinned when it matches.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateNotNullOrEmpty]
    public string? Thumbprint { get; set; }

    /// <summary>Accept and pin a certificate that differs from the pinned one (after verifying it on the host).</summary>
    [Parameter(ParameterSetName = Default)]
    public SwitchParameter AcceptNewThumbprint { get; set; }

    /// <summary>Connection timeout per transport, in seconds.</summary>
    [Parameter(ParameterSetName = Default)]
    [ValidateRange(1, 3600)]
    public int TimeoutSec { get; set; } = 15;

    /// <summary>Connects, registers the session as the default and writes it.</summary>
    protected override void ProcessRecord()
    {
        if (!ResolveCredential(out var user, out var password, out var save))
        {
            return;
        }

        Ceso.Engine.Security.AgentCredential? agentCredential = null;
        if (AgentAccount is not null && !TryRunEngine(ct => new Ceso.Engine.Security.AgentCredentialStore(Home).ReadAsync(AgentAccount, ct), AgentAccount, out agentCredential))
        {
            return; // the credential store could not give the password (locked, unavailable): the error says why
        }

        if (AgentAccount is not null && (agentCredential is null || Credential is not null || CredentialName is not null))
        {
            WriteError(ErrorMapper.ToErrorRecord(new Ceso.Engine.CesoException("AgentAccountNotFound", Ceso.Engine.CesoErrorKind.NotFound, agentCredential is null
                ? $"Agent '{AgentAccount}' has no account in {Home.Path} (a person creates one with New-CesoAgentAccount -Agent '{AgentAccount}')."
                : "-AgentAccount and -Credential/-CredentialName both name the API login: give one of them."), AgentAccount));
            return;
        }

        var profile = new ConnectionProfile
        {
            Server = Server,
            SoapPort = Port,
            SoapUser = agentCredential?.User ?? user,
            SoapPassword = agentCredential?.Password ?? password,
            Thumbprint = Thumbprint,
            AcceptNewThumbprint = AcceptNewThumbprint.IsPresent,
            SshUser = SshUser,
            SshPort = SshPort,
            SshKeyPath = ProviderPath(SshKeyPath),
            SshCertificatePath = ProviderPath(SshCertificatePath),
            KnownHostsPath = ProviderPath(KnownHostsPath),
            SshConfigFile = SshConfigFile == "none" ? SshConfigFile : ProviderPath(SshConfigFile),
            Transport = Transport,
            ConnectTimeout = TimeSpan.FromSeconds(TimeoutSec),
        };

        var factory = new SessionFactory(Home);
        if (!TryRunEngine(ct => factory.ConnectAsync(profile, ct), Server, out var session))
        {
            return;
        }

        // The session is closed unless it ends up in the registry: also when Ctrl+C stops the version lookup (then
        // TryRunEngine throws PipelineStoppedException) — the ssh process and the API session must not outlive this call.
        var registered = false;
        try
        {
            // The SOAP ServiceContent carries the version; an SSH-only session asks the host.
            if (!TryRunEngine(async ct => session.HostVersion ?? (await session.Inventory.GetHostAsync(ct).ConfigureAwait(false)).Version, Server, out var version))
            {
                return;
            }

            var info = Sessions.Add(session, version);
            registered = true;
            if (save is not null && OpenCredentialStore(save.Name) is { } store)
            {
                // Only after the host accepted the login, so a mistyped password is never saved.
                RunLocalPlan(SaveCredentialPlan(store, save), save.Name, [save.Password, CredentialPassphrase()]);
            }

            if (session.ThumbprintNewlyPinned)
            {
                WriteWarning($"Pinned the TLS certificate thumbprint {session.Thumbprint} of {Server}:{Port} on first use. " +
                    "Verify it on the host's console (openssl x509 -in /etc/vmware/ssl/rui.crt -noout -fingerprint -sha256); " +
                    "if it differs, disconnect and investigate. Later connections are refused when the certificate changes.");
            }

            if (session.SoapFallbackReason is { } reason)
            {
                WriteWarning($"The vSphere API of {Server} could not be used, so this session reads over SSH: {reason}");
            }

            WriteObject(info);
        }
        finally
        {
            if (!registered)
            {
                // Synchronously and without the (possibly cancelled) token: logout and closing the shell are bounded.
                session.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
    }

    /// <summary>
    /// The API user and password: from -Credential, loaded from the store by -CredentialName, or read from
    /// SecretManagement by -SecretName; and, with -SaveCredential, the entry to save after the login. False when an
    /// error was written (nothing to connect with).
    /// </summary>
    private bool ResolveCredential(out string? user, out string? password, out CredentialSecret? save)
    {
        user = Credential?.UserName;
        password = Credential?.GetNetworkCredential().Password;
        save = null;
        if (SecretName is not null)
        {
            return ResolveSecret(out user, out password);
        }

        if (Vault is not null)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(new CesoException("VaultWithoutSecretName", CesoErrorKind.InvalidArgument,
                "-Vault names the SecretManagement vault of -SecretName; give -SecretName too, or leave -Vault out."), Vault));
        }

        var name = CredentialName ?? Server;
        if (SaveCredential)
        {
            if (Credential is null)
            {
                ThrowTerminatingError(ErrorMapper.ToErrorRecord(new CesoException("CredentialToSaveMissing", CesoErrorKind.InvalidArgument,
                    "-SaveCredential saves the -Credential a login succeeded with; give -Credential (and -CredentialName for another name than the server's)."), Server));
            }

            if (!CredentialSecret.IsValidName(name))
            {
                ThrowTerminatingError(ErrorMapper.ToErrorRecord(CredentialErrors.NameInvalid(name), name));
            }

            // An agent is refused before connecting (saving is a local change), not after a login it then cannot keep.
            if (!AuthorizeLocalChange("SaveCredential", $"credential '{name}'", $"save credential '{name}' after the login to {Server}", name))
            {
                return false;
            }

            save = new CredentialSecret(name, CredentialSecret.CredentialKind, user, password ?? "", DateTimeOffset.UtcNow);
            return true;
        }

        if (CredentialName is null)
        {
            return true;
        }

        if (Credential is not null)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(new CesoException("CredentialAmbiguous", CesoErrorKind.InvalidArgument,
                "Give -Credential or -CredentialName, not both (add -SaveCredential to save -Credential under -CredentialName)."), Server));
        }

        if (LoadCredential(CredentialName, CredentialName) is not { } saved)
        {
            return false;
        }

        if (saved.Kind != CredentialSecret.CredentialKind)
        {
            WriteEngineError(new CesoException("CredentialKindWrong", CesoErrorKind.InvalidArgument,
                $"The saved entry '{CredentialName}' is a password without a user name; Connect-CesoServer needs a credential (Save-CesoCredential -Name '{CredentialName}' -Credential (Get-Credential)).")
            { Target = CredentialName }, CredentialName);
            return false;
        }

        (user, password) = (saved.UserName, saved.Password);
        return true;
    }

    /// <summary>
    /// The API login from the SecretManagement secret -SecretName (a PSCredential). -SecretName is one of the ways to
    /// name the login, so it is refused with any other before anything is read or connected.
    /// </summary>
    private bool ResolveSecret(out string? user, out string? password)
    {
        (user, password) = (null, null);
        if (Credential is not null || CredentialName is not null || SaveCredential || AgentAccount is not null)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(new CesoException("CredentialAmbiguous", CesoErrorKind.InvalidArgument,
                "-SecretName names the API login; give it without -Credential, -CredentialName, -SaveCredential or -AgentAccount " +
                "(to keep the credential in Ceso's store as well: Save-CesoCredential -Name NAME -Credential (Get-Secret NAME))."), SecretName));
        }

        try
        {
            (user, password) = GetSecretCredential(SecretName!, Vault);
        }
        catch (CesoException e)
        {
            WriteEngineError(e, SecretName);
            return false;
        }

        WriteVerbose($"The API login of {Server} ('{user}') comes from the SecretManagement secret '{SecretName}'{(Vault is null ? "" : $" in vault '{Vault}'")}.");
        return true;
    }
}
