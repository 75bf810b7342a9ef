using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.CloudInit;

namespace Ceso.PowerShell;

/// <summary>
/// Turns the cloud-init parameters of New-, Copy- and Set-CesoVm into a <see cref="GuestInfoRequest"/>: -SshKey values
/// that are paths are read (relative to the PowerShell location), -UserData that names a file is read. Addresses are
/// validated by the engine when it plans.
/// </summary>
internal static class GuestInput
{
    private static readonly string[] KeyPrefixes = ["ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-"];

    /// <summary>Whether any cloud-init parameter was given.</summary>
    public static bool Any(params object?[] values) => values.Any(v => v is string s ? s.Length > 0 : v is Array a ? a.Length > 0 : v is not null);

    /// <summary>The request for a VM; the engine fills in the VM name, MAC and instance-id.</summary>
    public static GuestInfoRequest Request(string vmName, string[]? ip, string[]? gateway, string[]? dns, string[]? search,
        IReadOnlyList<string>? sshKeys = null, string? hostname = null, string? userData = null) => new()
    {
        VmName = vmName,
        Hostname = hostname,
        IPAddresses = ip ?? [],
        Gateways = gateway ?? [],
        DnsServers = dns ?? [],
        SearchDomains = search ?? [],
        SshKeys = sshKeys ?? [],
        ExtraUserData = userData,
    };

    /// <summary>
    /// The network parameters with a pool's address: the address in CIDR form, and the pool's gateway, DNS servers and
    /// search domains where the parameters give none (a parameter given explicitly wins).
    /// </summary>
    public static (string[]? Ip, string[]? Gateway, string[]? Dns, string[]? Search) WithPool(Ceso.Engine.Model.CesoIPPoolAddress? address,
        string[]? ip, string[]? gateway, string[]? dns, string[]? search) =>
        address is null
            ? (ip, gateway, dns, search)
            : ([address.Cidr],
               gateway ?? (address.Gateway is { } g ? [g] : null),
               dns ?? (address.DnsServers.Count > 0 ? [.. address.DnsServers] : null),
               search ?? (address.SearchDomains.Count > 0 ? [.. address.SearchDomains] : null));

    /// <summary>
    /// Each -SshKey value is an OpenSSH public key line (ssh-ed25519 AAAA… comment) or a path to a .pub file whose key
    /// lines are read. A private key is refused: it must never travel to a VM's .vmx.
    /// </summary>
    public static IReadOnlyList<string> SshKeys(string[]? values, Func<string, string?> resolve)
    {
        var keys = new List<string>();
        foreach (var value in values ?? [])
        {
            var text = value.Trim();
            if (KeyPrefixes.Any(p => text.StartsWith(p, StringComparison.Ordinal)) && text.Contains(' ', StringComparison.Ordinal))
            {
                keys.Add(text);
                continue;
            }

            var path = TryResolve(text, resolve);
            if (path is null || !File.Exists(path))
            {
                throw Invalid("SshKeyNotFound",
                    $"-SshKey '{value}' is neither an OpenSSH public key (ssh-ed25519 AAAA… user@host) nor an existing file{(path is null ? "" : $" ('{path}' does not exist)")}. Give the key text or the path of its .pub file.", value);
            }

            var content = File.ReadAllText(path);
            if (content.Contains("PRIVATE KEY", StringComparison.Ordinal))
            {
                throw Invalid("SshKeyIsPrivate", $"'{path}' is a private key. Give the public key instead (usually the same path with .pub).", value);
            }

            var lines = content.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
            if (lines.Count == 0 || !lines.All(l => KeyPrefixes.Any(p => l.StartsWith(p, StringComparison.Ordinal))))
            {
                throw Invalid("SshKeyInvalid", $"'{path}' does not hold OpenSSH public keys (lines such as 'ssh-ed25519 AAAA… user@host').", value);
            }

            keys.AddRange(lines);
        }

        return keys;
    }

    /// <summary>-UserData: the content of the file it names, else the text itself (cloud-config or a script).</summary>
    public static string? UserData(string? value, Func<string, string?> resolve)
    {
        if (string.IsNullOrEmpty(value) || value.Contains('\n', StringComparison.Ordinal) || value.StartsWith("#cloud-config", StringComparison.Ordinal) || value.StartsWith("#!", StringComparison.Ordinal))
        {
            return value;
        }

        var path = TryResolve(value.Trim(), resolve);
        if (path is not null && File.Exists(path))
        {
            return File.ReadAllText(path);
        }

        // One line that is neither cloud-config nor a script is a path that does not exist (a typo), not user-data:
        // sending the path itself to cloud-init would fail silently inside the guest.
        throw new CesoException("UserDataNotFound", CesoErrorKind.NotFound,
            $"-UserData '{value}' is not a file (and one line without '#cloud-config' or '#!' is not user-data). Give the path of an existing file, or the user-data text itself.")
        { Target = value };
    }

    private static string? TryResolve(string path, Func<string, string?> resolve)
    {
        try
        {
            return resolve(path);
        }
        catch (Exception e) when (e is RuntimeException or ArgumentException or NotSupportedException or IOException)
        {
            return null; // not a path PowerShell can resolve (an unknown drive, a provider that is not the file system)
        }
    }

    private static CesoException Invalid(string id, string message, string target) =>
        new(id, CesoErrorKind.InvalidArgument, message) { Target = target };
}
