using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Ceso.Engine.Ssh;

/// <summary>An OpenSSH user certificate as <c>ssh-keygen -L</c> reads it.</summary>
/// <param name="Path">The certificate file (…-cert.pub).</param>
/// <param name="KeyId">The key id the CA wrote (who it was issued to, and why): sshd logs it, the audit log records it.</param>
/// <param name="Serial">The serial number.</param>
/// <param name="Principals">The users it may log in as (root).</param>
/// <param name="ValidFrom">Start of its validity (UTC); null = always.</param>
/// <param name="ValidTo">End of its validity (UTC); null = forever.</param>
/// <param name="SigningCa">The CA's key fingerprint (SHA256:…).</param>
/// <param name="PublicKey">The certified key's fingerprint.</param>
public sealed record SshCertificate(string Path, string KeyId, ulong Serial, IReadOnlyList<string> Principals,
    DateTimeOffset? ValidFrom, DateTimeOffset? ValidTo, string SigningCa, string PublicKey)
{
    /// <summary>Whether it is valid at <paramref name="now"/>.</summary>
    public bool IsValidAt(DateTimeOffset now) => (ValidFrom is null || ValidFrom <= now) && (ValidTo is null || now < ValidTo);
}

/// <summary>
/// Short-lived OpenSSH user certificates: issued with the system's <c>ssh-keygen -s</c> (the CA key never passes
/// through Ceso; with <c>-U</c> it stays in ssh-agent), read back with <c>ssh-keygen -L</c>, and checked before a
/// connection uses one, so an expired certificate is a clear error rather than a refused login.
/// </summary>
public static class SshCertificates
{
    /// <summary>The ssh-keygen command line that signs <paramref name="publicKey"/> (also what -WhatIf and the audit log show).</summary>
    public static IReadOnlyList<string> IssueArguments(string caKey, bool caInAgent, string publicKey, string keyId,
        IReadOnlyList<string> principals, TimeSpan validity, ulong serial) =>
    [
        "-q", "-s", caKey, .. caInAgent ? new[] { "-U" } : [], "-I", keyId, "-n", string.Join(",", principals),
        // From a minute ago (clock skew between this machine and the host), for the validity asked.
        "-V", $"-1m:+{(long)Math.Ceiling(validity.TotalSeconds)}s", "-z", serial.ToString(CultureInfo.InvariantCulture), publicKey,
    ];

    /// <summary>Runs ssh-keygen with <paramref name="arguments"/> and returns its standard output; a failure is <c>SshKeygenFailed</c>.</summary>
    public static string RunKeygen(IReadOnlyList<string> arguments, string what)
    {
        var psi = new ProcessStartInfo("ssh-keygen")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("Process.Start returned null");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new CesoException("SshKeygenMissing", CesoErrorKind.NotSupported,
                $"Could not start ssh-keygen to {what}: {e.Message}. Install the OpenSSH client (Debian/Ubuntu: apt-get install openssh-client).", e);
        }

        using (process)
        {
            process.StandardInput.Close(); // never wait for a passphrase on stdin
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(60_000))
            {
                process.Kill(true);
                throw new CesoException("SshKeygenFailed", CesoErrorKind.InvalidState, $"ssh-keygen did not finish within 60 s while trying to {what} (waiting for a passphrase?). Load the CA key into ssh-agent and use -UseAgent.");
            }

            if (process.ExitCode != 0)
            {
                throw new CesoException("SshKeygenFailed", CesoErrorKind.InvalidArgument,
                    $"ssh-keygen could not {what} (exit {process.ExitCode}): {stderr.Result.Trim()}");
            }

            return stdout.Result;
        }
    }

    /// <summary>Reads a certificate with <c>ssh-keygen -L</c>; a file that is not one is <c>SshCertificateInvalid</c>.</summary>
    public static SshCertificate Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new CesoException("SshCertificateInvalid", CesoErrorKind.InvalidArgument,
                $"The SSH certificate '{path}' does not exist. Issue one with New-CesoSshCertificate, or give the path of a …-cert.pub file.") { Target = path };
        }

        string text;
        try
        {
            text = RunKeygen(["-L", "-f", path], $"read the certificate '{path}'");
        }
        catch (CesoException e) when (e.ErrorId == "SshKeygenFailed")
        {
            throw new CesoException("SshCertificateInvalid", CesoErrorKind.InvalidArgument,
                $"'{path}' is not an OpenSSH certificate ({e.Message}).", e) { Target = path };
        }

        return Parse(path, text);
    }

    /// <summary>Parses <c>ssh-keygen -L</c> output (times in the local time zone, as ssh-keygen prints them).</summary>
    public static SshCertificate Parse(string path, string text)
    {
        string Field(string name) => Regex.Match(text, $@"^\s*{name}:\s*(.*)$", RegexOptions.Multiline) is { Success: true } m ? m.Groups[1].Value.Trim() : "";
        var keyId = Field("Key ID").Trim('"');
        var serial = ulong.TryParse(Field("Serial"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
        var principals = new List<string>();
        var p = Regex.Match(text, @"^\s*Principals:\s*\r?\n((?:\s{9,}\S.*\r?\n?)*)", RegexOptions.Multiline);
        if (p.Success)
        {
            principals.AddRange(p.Groups[1].Value.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        DateTimeOffset? from = null, to = null;
        var valid = Field("Valid");
        if (Regex.Match(valid, @"from (\S+) to (\S+)") is { Success: true } v)
        {
            from = Time(v.Groups[1].Value);
            to = Time(v.Groups[2].Value);
        }
        else if (Regex.Match(valid, @"after (\S+)") is { Success: true } a)
        {
            from = Time(a.Groups[1].Value);
        }
        else if (Regex.Match(valid, @"before (\S+)") is { Success: true } b)
        {
            to = Time(b.Groups[1].Value);
        }

        return new SshCertificate(path, keyId, serial, principals, from, to,
            Field("Signing CA").Split(' ').Skip(1).FirstOrDefault() ?? "", Field("Public key").Split(' ').Skip(1).FirstOrDefault() ?? "");

        static DateTimeOffset? Time(string t) =>
            DateTime.TryParseExact(t, "yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var d)
                ? new DateTimeOffset(d.ToUniversalTime(), TimeSpan.Zero) : null;
    }

    /// <summary>
    /// Checks a certificate a connection is about to use: readable, valid now, and naming the login user; else a
    /// <c>SshCertificateExpired</c>, <c>SshCertificateNotYetValid</c> or <c>SshCertificatePrincipal</c> CesoException.
    /// </summary>
    public static SshCertificate CheckForLogin(string path, string user, DateTimeOffset now)
    {
        var cert = Read(path);
        if (cert.ValidTo is { } to && now >= to)
        {
            throw new CesoException("SshCertificateExpired", CesoErrorKind.Security,
                $"The SSH certificate '{path}' (key id \"{cert.KeyId}\") expired at {to.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z; the host would refuse it. Issue a new one with New-CesoSshCertificate.") { Target = path };
        }

        if (cert.ValidFrom is { } from && now < from)
        {
            throw new CesoException("SshCertificateNotYetValid", CesoErrorKind.Security,
                $"The SSH certificate '{path}' (key id \"{cert.KeyId}\") is valid only from {from.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z; check this machine's clock.") { Target = path };
        }

        if (cert.Principals.Count > 0 && !cert.Principals.Contains(user, StringComparer.Ordinal))
        {
            throw new CesoException("SshCertificatePrincipal", CesoErrorKind.Security,
                $"The SSH certificate '{path}' (key id \"{cert.KeyId}\") lets its holder log in as {string.Join(", ", cert.Principals)}, not as '{user}'. Issue one with -Principal {user}.") { Target = path };
        }

        return cert;
    }
}
