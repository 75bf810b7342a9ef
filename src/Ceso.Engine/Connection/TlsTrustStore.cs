using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Ceso.Engine.Connection;

/// <summary>
/// Pinned TLS certificate thumbprints (SHA-256) per host:port, in $CESO_HOME/tls-thumbprints.json.
/// The first connection records the thumbprint; a later different certificate is refused until the user accepts it
/// explicitly (Connect-CesoServer -AcceptNewThumbprint), which is then remembered.
/// </summary>
public sealed class TlsTrustStore(CesoHome home)
{
    // Serialises read-modify-write within the process; the atomic rename keeps the file whole across processes.
    private static readonly object WriteLock = new();
    private readonly string _file = home.File("tls-thumbprints.json");

    /// <summary>The pinned SHA-256 thumbprint for host:port, or null.</summary>
    public string? Get(string endpoint) => Load().GetValueOrDefault(endpoint);

    /// <summary>Pins a thumbprint for host:port.</summary>
    public void Set(string endpoint, string sha256)
    {
        lock (WriteLock)
        {
            var all = Load();
            all[endpoint] = sha256;
            CesoHome.WriteAtomic(_file, JsonSerializer.Serialize(all, new JsonSerializerOptions { WriteIndented = true }));
        }
    }

    private Dictionary<string, string> Load() =>
        System.IO.File.Exists(_file)
            ? JsonSerializer.Deserialize<Dictionary<string, string>>(System.IO.File.ReadAllText(_file)) ?? []
            : [];

    /// <summary>SHA-256 of a certificate as AA:BB:… (the form vSphere shows).</summary>
    public static string Sha256(X509Certificate2 cert) => Colons(SHA256.HashData(cert.RawData));

    /// <summary>SHA-1 of a certificate as AA:BB:… (the form older ESXi consoles show).</summary>
    public static string Sha1(X509Certificate2 cert) => Colons(SHA1.HashData(cert.RawData));

    /// <summary>Whether two thumbprints are equal, ignoring case and separators.</summary>
    public static bool Same(string a, string b) => Normalize(a) == Normalize(b);

    private static string Normalize(string t) => new string(t.Where(Uri.IsHexDigit).ToArray()).ToUpperInvariant();

    private static string Colons(byte[] hash) => string.Join(':', hash.Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
}
