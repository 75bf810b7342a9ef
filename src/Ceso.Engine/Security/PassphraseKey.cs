using System.Security.Cryptography;
using System.Text;

namespace Ceso.Engine.Security;

/// <summary>
/// A 256-bit key derived from a password or passphrase with PBKDF2-HMAC-SHA256, and AES-256-GCM sealing under such a
/// key (<c>nonce(12) | ciphertext | tag(16)</c>, bound to associated data). Shared by the backup repository's key files
/// and the encrypted credential file. The BCL of net8.0 has no memory-hard KDF (no scrypt or Argon2), so PBKDF2 with a
/// high count is what is available without a third-party primitive.
/// </summary>
internal static class PassphraseKey
{
    /// <summary>The key length in bytes (AES-256).</summary>
    public const int KeySize = 32;

    /// <summary>The iteration count new keys get (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).</summary>
    public const int DefaultIterations = 600_000;

    /// <summary>The fewest iterations a stored file may name (tests use it; nothing less is accepted).</summary>
    public const int MinIterations = 1000;

    /// <summary>The most iterations a stored file may name (a hostile file must not make Ceso spin for hours).</summary>
    public const int MaxIterations = 50_000_000;

    private const int NonceSize = 12;
    private const int TagSize = 16;

    /// <summary>True when a stored iteration count is within the accepted range.</summary>
    public static bool AcceptsIterations(int iterations) => iterations is >= MinIterations and <= MaxIterations;

    /// <summary>The key of <paramref name="passphrase"/> with <paramref name="salt"/>.</summary>
    public static byte[] Derive(string passphrase, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(passphrase), salt, iterations, HashAlgorithmName.SHA256, KeySize);

    /// <summary>Seals <paramref name="plaintext"/> with a fresh random nonce: <c>nonce | ciphertext | tag</c>.</summary>
    public static byte[] Seal(byte[] key, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> ad)
    {
        var result = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = result.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, result.AsSpan(NonceSize, plaintext.Length), result.AsSpan(NonceSize + plaintext.Length), ad);
        return result;
    }

    /// <summary>Opens <c>nonce | ciphertext | tag</c>, or null when it does not authenticate (wrong key, changed bytes or associated data).</summary>
    public static byte[]? Open(byte[] key, ReadOnlySpan<byte> sealedData, ReadOnlySpan<byte> ad)
    {
        if (sealedData.Length < NonceSize + TagSize) return null;
        var plaintext = new byte[sealedData.Length - NonceSize - TagSize];
        using var aes = new AesGcm(key, TagSize);
        try
        {
            aes.Decrypt(sealedData[..NonceSize], sealedData[NonceSize..^TagSize], sealedData[^TagSize..], plaintext, ad);
            return plaintext;
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
    }
}
