namespace Ceso.Engine.Ssh;

/// <summary>Turns what the OpenSSH client printed when it gave up into an error that says what to do.</summary>
internal static class SshErrors
{
    public static CesoException Classify(SshTarget t, string stderr, int exitCode)
    {
        var text = stderr.Trim();
        var where = $"[{t.Host}]:{t.Port}";
        var known = t.KnownHostsFile ?? "~/.ssh/known_hosts";
        if (text.Contains("REMOTE HOST IDENTIFICATION HAS CHANGED", StringComparison.Ordinal)
            || text.Contains("has changed and you have requested strict checking", StringComparison.Ordinal))
        {
            return new SshHostKeyException("SshHostKeyMismatch",
                $"The SSH host key of {where} does not match the one in {known}; Ceso refused to connect. " +
                "Someone may be intercepting the connection, or the host was reinstalled. Verify the new key on the host's console " +
                $"(ssh-keygen -lf /etc/ssh/ssh_host_rsa_key.pub), then replace the old line (ssh-keygen -R '{where}' -f {known}).")
            { Host = t.Host };
        }

        if (text.Contains("host key is known", StringComparison.Ordinal) || text.Contains("Host key verification failed", StringComparison.Ordinal))
        {
            return new SshHostKeyException("SshHostKeyUnknown",
                $"No SSH host key for {where} is in {known}, and Ceso does not trust keys on first use. " +
                $"Check the key's fingerprint on the host's console, then add it: ssh-keyscan -p {t.Port} {t.Host} >> {known}.")
            { Host = t.Host };
        }

        if (text.Contains("Permission denied", StringComparison.Ordinal))
        {
            return new SshConnectionException("SshAuthenticationFailed",
                $"The host {where} refused the SSH login of '{t.User}' ({text}). Check -SshUser and -SshKeyPath, and that the public key is in /etc/ssh/keys-{t.User}/authorized_keys on ESXi.")
            { Host = t.Host };
        }

        return new SshConnectionException("SshConnectionFailed",
            $"Could not open an SSH session to {where} (ssh exit code {exitCode}: {(text.Length > 0 ? text : "no message")}). " +
            "Check that SSH is enabled on the host (TSM-SSH service), the address and port, and that the OpenSSH client is installed.")
        { Host = t.Host };
    }
}
