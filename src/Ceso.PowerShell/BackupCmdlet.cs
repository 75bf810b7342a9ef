using System.Management.Automation;
using System.Net;
using System.Security;
using Ceso.Engine;
using Ceso.Engine.Backup;
using Ceso.Engine.Configuration;
using Ceso.Engine.Operations;
using Ceso.Engine.Security.Credentials;

namespace Ceso.PowerShell;

/// <summary>
/// Base of the backup cmdlets: where a repository password comes from (-Password, else the SecretManagement secret
/// -PasswordSecretName, else CESO_REPOSITORY_PASSWORD, read here at the edge, else the credential store's entry <c>repository:&lt;name&gt;</c> for a registered name), opening a
/// repository by name or path, and the registered repositories. A password never reaches
/// an error, a verbose line, -WhatIf text or the audit log: the plan runners get it as a secret to mask.
/// </summary>
public abstract class BackupCmdlet : CesoCmdlet
{
    /// <summary>The environment variable a repository password is read from when -Password is not given.</summary>
    protected const string PasswordVariable = "CESO_REPOSITORY_PASSWORD";

    /// <summary>
    /// Credentials for an S3 repository: the user name is the access key id, the password the secret access key.
    /// Default: the AWS variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) or the profile the
    /// repository names. Never logged.
    /// </summary>
    [Parameter]
    [Credential]
    [ValidateNotNull]
    public PSCredential? Credential { get; set; }

    /// <summary>-Credential as the engine takes it, or null.</summary>
    protected RepositoryCredentials? S3Credentials() =>
        Credential is null ? null : new RepositoryCredentials(Credential.UserName, Credential.GetNetworkCredential().Password);

    /// <summary>The AWS variables of this process, read here at the edge, for S3 repositories without -Credential.</summary>
    protected static IReadOnlyDictionary<string, string?> AwsEnvironment() =>
        new[] { "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE" }
            .ToDictionary(n => n, Environment.GetEnvironmentVariable, StringComparer.Ordinal);

    private readonly List<string> _storedPasswords = [];

    /// <summary>The secrets of this call to mask in everything shown or logged: the repository password (given or from the store) and the S3 secret.</summary>
    protected string?[] Secrets(string? password) =>
        [password, .. _storedPasswords, Credential?.GetNetworkCredential().Password, Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY"),
            Environment.GetEnvironmentVariable("AWS_SESSION_TOKEN"), CredentialPassphrase()];

    /// <summary>
    /// The password of a registered repository saved in the credential store (<c>repository:&lt;name&gt;</c>), or null:
    /// for a path, when no entry is saved, or when the store cannot be read (then a warning says why and the repository
    /// is opened without a password, which an encrypted one answers with RepositoryPasswordRequired).
    /// </summary>
    protected string? StoredPassword(string repository)
    {
        var entry = CredentialSecret.RepositoryEntry(repository);
        if (LooksLikePath(repository) || RepositoryLocation.IsUrl(repository) || !CredentialSecret.IsValidName(entry))
        {
            return null;
        }

        try
        {
            var store = RunEngine(ct => CredentialStores.OpenAsync(Home, CredentialSettings(), ct));
            if (store is EncryptedFileCredentialStore && !File.Exists(CredentialStores.FilePath(Home)))
            {
                return null; // no credential was ever saved: nothing to unlock, nothing to warn about
            }

            if (RunEngine(ct => store.LoadAsync(entry, ct)) is not { } saved)
            {
                return null;
            }

            _storedPasswords.Add(saved.Password);
            WriteVerbose($"The password of '{repository}' comes from the {store.Kind} credential store (entry '{entry}').");
            return saved.Password;
        }
        catch (CesoException e)
        {
            WriteWarning($"The credential store could not be read for the password of '{repository}' (entry '{entry}'): {e.Message}");
            return null;
        }
    }

    /// <summary>
    /// The name of a SecureString or string secret in PowerShell SecretManagement (Get-Secret) that is the repository
    /// password, instead of -Password; needs the module Microsoft.PowerShell.SecretManagement and a vault. Masked like
    /// a given password.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PasswordSecretName { get; set; }

    /// <summary>The SecretManagement vault -PasswordSecretName is read from; default: the default vault, then every registered vault.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Vault { get; set; }

    private string? _secretPassword;

    /// <summary>
    /// The password in plain text: <paramref name="password"/>, else the SecretManagement secret -PasswordSecretName
    /// (read once per call; a failure ends the cmdlet, since every input would fail the same way), else
    /// $env:CESO_REPOSITORY_PASSWORD, else null. -Password with -PasswordSecretName is <c>PasswordAmbiguous</c>.
    /// </summary>
    protected string? PlainPassword(SecureString? password)
    {
        if (PasswordSecretName is null)
        {
            if (Vault is not null)
            {
                ThrowTerminatingError(ErrorMapper.ToErrorRecord(new CesoException("VaultWithoutSecretName", CesoErrorKind.InvalidArgument,
                    "-Vault names the SecretManagement vault of -PasswordSecretName; give -PasswordSecretName too, or leave -Vault out."), Vault));
            }

            return password is not null
                ? new NetworkCredential("", password).Password
                : Environment.GetEnvironmentVariable(PasswordVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
        }

        if (password is not null)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(new CesoException("PasswordAmbiguous", CesoErrorKind.InvalidArgument,
                "-Password and -PasswordSecretName both give the repository password; give one of them."), PasswordSecretName));
        }

        if (_secretPassword is null)
        {
            try
            {
                _secretPassword = GetSecretPassword(PasswordSecretName, Vault);
            }
            catch (CesoException e)
            {
                ThrowTerminatingError(ErrorMapper.ToErrorRecord(e, PasswordSecretName));
                throw; // not reached: ThrowTerminatingError throws
            }

            _storedPasswords.Add(_secretPassword);
            WriteVerbose($"The repository password comes from the SecretManagement secret '{PasswordSecretName}'{(Vault is null ? "" : $" in vault '{Vault}'")}.");
        }

        return _secretPassword;
    }

    /// <summary>
    /// Opens a repository (a name in config.yaml, or a path relative to the PowerShell location); on failure writes one
    /// non-terminating error for <paramref name="target"/> and returns null, or with <paramref name="terminating"/>
    /// ends the cmdlet with it (every input would fail the same way). An encrypted repository opened without any
    /// password is <c>RepositoryPasswordRequired</c>, which says where a password can come from.
    /// </summary>
    protected OpenedRepository? OpenRepository(string nameOrPath, string? password, object? target, bool terminating = false)
    {
        var given = LooksLikePath(nameOrPath) ? ProviderPath(nameOrPath)! : nameOrPath;
        password ??= StoredPassword(nameOrPath);
        var credentials = S3Credentials();
        Exception failure;
        try
        {
            return RunEngine(ct => BackupOperations.OpenAsync(Home, given, password, ct, credentials: credentials, environment: AwsEnvironment()));
        }
        catch (CesoException e) when (password is null && e.ErrorId == "RepositoryPasswordWrong")
        {
            failure = new CesoException("RepositoryPasswordRequired", CesoErrorKind.Security,
                $"The backup repository '{nameOrPath}' is encrypted and no password was given. Give -Password (a SecureString, e.g. (Read-Host -AsSecureString)), set $env:{PasswordVariable}, or save it in the credential store: Save-CesoCredential -Name '{CredentialSecret.RepositoryEntry(nameOrPath)}' -Password (Read-Host -AsSecureString).", e)
            { Target = nameOrPath };
        }
        catch (Exception e) when (ErrorMapper.IsEngineError(e))
        {
            failure = e;
        }

        if (terminating && !(failure is OperationCanceledException && Stopping))
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(failure, target ?? nameOrPath));
        }

        WriteEngineError(failure, target ?? nameOrPath);
        return null;
    }

    /// <summary>The names registered in config.yaml, in file order; a malformed file ends the cmdlet (nothing can be listed).</summary>
    protected IReadOnlyList<string> RegisteredRepositories()
    {
        try
        {
            return CesoConfig.Load(Home).Repositories.Keys.ToList();
        }
        catch (CesoException e)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(e, CesoConfig.PathOf(Home)));
            return [];
        }
    }

    /// <summary>A repository argument that is a path (as opposed to a registered name).</summary>
    protected static bool LooksLikePath(string nameOrPath) => !RepositoryLocation.IsUrl(nameOrPath) && (
        nameOrPath.Contains('/', StringComparison.Ordinal) || nameOrPath.Contains('\\', StringComparison.Ordinal) ||
        nameOrPath.StartsWith('~') || nameOrPath.StartsWith('.') || Path.IsPathRooted(nameOrPath));
}
