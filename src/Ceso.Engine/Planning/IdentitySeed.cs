using System.Security.Cryptography;
using System.Text;
using Ceso.Engine.Connection;

namespace Ceso.Engine.Planning;

/// <summary>
/// Where a plan's new identities come from (BIOS UUIDs, MACs, cloud-init instance-ids, snapshot names): bytes derived
/// with HMAC-SHA256 from this installation's secret key and what the plan is for (host, request, the facts it read).
/// Planning the same request against the same host state therefore gives the same identities, so -WhatIf shows the
/// UUID and MACs the real run will write, and the plan's digest is stable (<see cref="PlanDigest"/>); anything else
/// (another host, another name, a changed source) gives other bytes. The key ($CESO_HOME/identity.key, 32 random
/// bytes) makes them unpredictable to anyone without it; losing it only changes future identities.
/// </summary>
public sealed class IdentitySeed : Formats.IIdentitySource
{
    private readonly byte[] _key;

    private IdentitySeed(byte[] key) => _key = key;

    /// <summary>A seed for one plan: the installation key, keyed by every fact the plan's identities must depend on.</summary>
    public static IdentitySeed For(CesoHome home, params string?[] facts)
    {
        using var hmac = new HMACSHA256(InstallationKey(home));
        return new IdentitySeed(hmac.ComputeHash(Encoding.UTF8.GetBytes(string.Join("\u001f", facts.Select(f => f ?? "\u0000")))));
    }

    /// <summary>A seed of random bytes: identities that repeat nothing (tests, callers without a home).</summary>
    public static IdentitySeed Random() => new(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// Another seed derived from this one and <paramref name="counter"/>: what a plan derives from when the identities
    /// of this one are taken already (by a VM on the host, or issued before). The same counter, the same seed.
    /// </summary>
    public IdentitySeed Retry(int counter) =>
        new(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"retry\u001f{counter.ToString(System.Globalization.CultureInfo.InvariantCulture)}")));

    /// <summary><paramref name="count"/> bytes for one purpose ("bios-uuid", "mac-0", …): the same purpose, the same bytes.</summary>
    public byte[] Bytes(string purpose, int count)
    {
        var output = new byte[count];
        var written = 0;
        for (var block = 0; written < count; block++)
        {
            var next = HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{purpose}\u001f{block}"));
            var n = Math.Min(next.Length, count - written);
            Array.Copy(next, 0, output, written, n);
            written += n;
        }

        return output;
    }

    /// <summary>Lowercase hex of <paramref name="count"/> bytes for one purpose.</summary>
    public string Hex(string purpose, int count) => Convert.ToHexString(Bytes(purpose, count)).ToLowerInvariant();

    private static byte[] InstallationKey(CesoHome home)
    {
        var path = home.File("identity.key");
        if (File.Exists(path))
        {
            return File.ReadAllBytes(path) is { Length: 32 } existing ? existing
                : throw new CesoException("IdentityKeyDamaged", CesoErrorKind.InvalidState,
                    $"'{path}' is not a 32-byte key. Delete it (Ceso makes a new one; only identities of future VMs change).") { Target = path };
        }

        // First use: 32 random bytes, readable by this user only, written atomically; a concurrent first use by another
        // process may win the rename, so the key is read back from the file.
        var tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllBytes(tmp, RandomNumberGenerator.GetBytes(32));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        try
        {
            File.Move(tmp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(tmp);
        }

        return File.ReadAllBytes(path);
    }
}
