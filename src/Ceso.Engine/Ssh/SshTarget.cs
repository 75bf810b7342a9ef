namespace Ceso.Engine.Ssh;

/// <summary>
/// Where and how to reach a host's shell with the system OpenSSH client. Host keys are always checked strictly
/// against <see cref="KnownHostsFile"/> (or the user's default known_hosts); nothing is ever trusted on first use.
/// </summary>
public sealed record SshTarget
{
    /// <summary>Host name or address.</summary>
    public required string Host { get; init; }

    /// <summary>TCP port (22 on ESXi).</summary>
    public int Port { get; init; } = 22;

    /// <summary>Login user (root on a standalone ESXi host).</summary>
    public required string User { get; init; }

    /// <summary>Private key file; null uses the agent or the keys of ~/.ssh/config.</summary>
    public string? IdentityFile { get; init; }

    /// <summary>OpenSSH certificate for <see cref="IdentityFile"/> (short-lived operator certificates).</summary>
    public string? CertificateFile { get; init; }

    /// <summary>known_hosts file to check the host key against; null = the user's default.</summary>
    public string? KnownHostsFile { get; init; }

    /// <summary>ssh_config file; null = the user's own (~/.ssh/config, so ProxyJump and aliases work); "none" ignores it.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>Whether an ssh-agent may offer keys.</summary>
    public bool UseAgent { get; init; } = true;

    /// <summary>The ssh executable.</summary>
    public string SshExecutable { get; init; } = "ssh";

    /// <summary>How long to wait for the connection to be made.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The ciphers offered, in order (OpenSSH's default set, AES-GCM first): on hosts with AES instructions OpenSSH's
    /// AES-GCM moves a disk's blocks ~1.5× faster than its default chacha20-poly1305 (394 MiB through ssh cat: 1.0 s
    /// vs 1.5 s, docs/decisions.md), and ESXi's sshd (FIPS mode) offers AES ciphers only. Null: ssh_config decides.
    /// </summary>
    public string? Ciphers { get; init; } = DefaultCiphers;

    /// <summary>The ciphers Ceso offers unless told otherwise; every one of them is in OpenSSH since 6.5.</summary>
    public const string DefaultCiphers = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr";

    /// <summary>The ssh arguments that reach <see cref="Host"/> and run <paramref name="remoteCommand"/>.</summary>
    internal IReadOnlyList<string> Arguments(string remoteCommand) => Build(remoteCommand, subsystem: false);

    /// <summary>
    /// The ssh arguments that reach <see cref="Host"/> the same way (same trust, keys, agent and ssh_config) and ask
    /// for the SSH subsystem <paramref name="subsystem"/> (<c>sftp</c>) instead of running a command.
    /// </summary>
    internal IReadOnlyList<string> SubsystemArguments(string subsystem) => Build(subsystem, subsystem: true);

    private List<string> Build(string last, bool subsystem)
    {
        var a = new List<string> { "-T" };
        if (ConfigFile is not null)
        {
            a.AddRange(["-F", ConfigFile == "none" ? "/dev/null" : ConfigFile]);
        }

        a.AddRange([
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "LogLevel=ERROR",
            "-o", $"ConnectTimeout={Math.Max(1, (int)ConnectTimeout.TotalSeconds)}",
            "-o", "ServerAliveInterval=15",
            "-o", "ServerAliveCountMax=3",
            "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-l", User,
        ]);
        if (Ciphers is not null)
        {
            a.AddRange(["-o", $"Ciphers={Ciphers}"]);
        }
        if (KnownHostsFile is not null)
        {
            a.AddRange(["-o", $"UserKnownHostsFile={KnownHostsFile}", "-o", "GlobalKnownHostsFile=/dev/null"]);
        }

        if (IdentityFile is not null)
        {
            a.AddRange(["-i", IdentityFile, "-o", "IdentitiesOnly=yes"]);
        }

        if (CertificateFile is not null)
        {
            a.AddRange(["-o", $"CertificateFile={CertificateFile}"]);
        }

        if (!UseAgent)
        {
            a.AddRange(["-o", "IdentityAgent=none"]);
        }

        if (subsystem)
        {
            a.Add("-s");
        }

        a.AddRange(["--", Host, last]);
        return a;
    }

    /// <inheritdoc />
    public override string ToString() => $"{User}@{Host}:{Port}";
}

/// <summary>What one remote command did.</summary>
/// <param name="CommandLine">The command line as sent.</param>
/// <param name="ExitCode">The remote exit code.</param>
/// <param name="Stdout">Standard output (UTF-8).</param>
/// <param name="Stderr">Standard error (UTF-8).</param>
public sealed partial record SshResult(string CommandLine, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Throws <see cref="RemoteCommandException"/> unless the exit code is 0.</summary>
    /// <param name="host">The host, for the message.</param>
    /// <param name="shown">How the command is shown (the -WhatIf text) when the real line carries data that must not
    /// reach an error: a file's content, user-data.</param>
    public SshResult EnsureSuccess(string host, string? shown = null)
    {
        if (ExitCode != 0)
        {
            var why = Stderr.Trim().Length > 0 ? Stderr.Trim() : Stdout.Trim();
            var command = shown ?? CommandLine;
            throw new RemoteCommandException(
                $"'{command}' failed on {host} with exit code {ExitCode}: {why}", ExitCode, Stderr)
            { Host = host, Command = command };
        }

        return this;
    }

    /// <summary>
    /// For a vim-cmd verb (power.on, reload, unregister, snapshot.create, registervm …): success needs exit code 0 AND
    /// no failure in the text. Not every vim-cmd failure is a non-zero exit with a fault dump on stderr: hostd can answer
    /// a verb in plain text ("Powering on VM:" then "Power on failed") with exit code 0, and a fault dump can come on
    /// stdout. Throws <see cref="RemoteCommandException"/> naming what the host printed.
    /// </summary>
    public SshResult EnsureVimCmdSuccess(string host, string? shown = null)
    {
        EnsureSuccess(host, shown);
        if ((VimCmdFailure(Stdout) ?? VimCmdFailure(Stderr)) is { } failure)
        {
            var command = shown ?? CommandLine;
            throw new RemoteCommandException(
                $"'{command}' failed on {host}: vim-cmd printed '{failure}' (exit code {ExitCode}). Check the VM's state and the host's events, then retry.",
                ExitCode, Stderr.Trim().Length > 0 ? Stderr : Stdout)
            { Host = host, Command = command };
        }

        return this;
    }

    /// <summary>The first line of vim-cmd output that reports a failure ("Power on failed", "Failed to …", a
    /// <c>(vim.fault.X)</c> dump), or null.</summary>
    internal static string? VimCmdFailure(string text)
    {
        foreach (var raw in text.Replace("\r", "", StringComparison.Ordinal).Split('\n'))
        {
            var line = raw.Trim();
            if (FailedLine().IsMatch(line) || line.StartsWith("(vim.fault.", StringComparison.Ordinal) || line.StartsWith("(vmodl.fault.", StringComparison.Ordinal))
            {
                return line;
            }
        }

        return null;
    }

    // "Power on failed", "Reset failed", "Failed to power on VM", "Failed: …" — a verb's own failure line, not a word
    // inside a longer message.
    [System.Text.RegularExpressions.GeneratedRegex(@"^(?:[A-Z][A-Za-z ]{0,40} failed\b.*|Failed\b.*)$")]
    private static partial System.Text.RegularExpressions.Regex FailedLine();
}
