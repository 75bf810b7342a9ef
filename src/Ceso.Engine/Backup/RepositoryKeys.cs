using System.Security.Cryptography;
using System.Text;

namespace Ceso.Engine.Backup;

/// <summary>
/// A repository's master key material: the AES-256-GCM key that seals every blob and file (none in an unencrypted
/// repository) and the id key of <see cref="BlobId"/>. Sealed data is <c>nonce(12) | ciphertext | tag(16)</c> with a
/// fresh random nonce each time and associated data that says what the bytes are, so a file or blob moved to another
/// place (a pack header presented as an index, one blob as another) fails to open.
/// </summary>
internal sealed class RepositoryKeys
{
    public const int KeySize = 32;
    public const int NonceSize = 12;
    public const int TagSize = 16;

    /// <summary>Bytes sealing adds to a blob (nonce and tag) in an encrypted repository.</summary>
    public int BlobOverhead => EncryptionKey is null ? 0 : NonceSize + TagSize;

    private RepositoryKeys(byte[]? encryptionKey, byte[] idKey)
    {
        EncryptionKey = encryptionKey;
        IdKey = idKey;
    }

    /// <summary>The AES-256-GCM key, or null in an unencrypted repository.</summary>
    public byte[]? EncryptionKey { get; }

    /// <summary>The HMAC-SHA256 key of blob ids.</summary>
    public byte[] IdKey { get; }

    /// <summary>True when data is sealed with AES-256-GCM.</summary>
    public bool Encrypted => EncryptionKey is not null;

    /// <summary>Fresh random keys.</summary>
    public static RepositoryKeys Create(bool encrypted) =>
        new(encrypted ? RandomNumberGenerator.GetBytes(KeySize) : null, RandomNumberGenerator.GetBytes(KeySize));

    /// <summary>Keys from their stored form (64 bytes: encryption key then id key; 32 bytes: id key only).</summary>
    public static RepositoryKeys FromBytes(ReadOnlySpan<byte> material) => material.Length switch
    {
        2 * KeySize => new(material[..KeySize].ToArray(), material[KeySize..].ToArray()),
        KeySize => new(null, material.ToArray()),
        _ => throw new ArgumentException("Key material is 32 or 64 bytes.", nameof(material)),
    };

    /// <summary>The stored form of the keys (see <see cref="FromBytes"/>).</summary>
    public byte[] ToBytes() => EncryptionKey is null ? IdKey.ToArray() : [.. EncryptionKey, .. IdKey];

    /// <summary>The id of the blob whose plaintext hashes to <paramref name="hash"/>.</summary>
    public BlobId IdOf(BlockHash hash) => BlobId.Compute(IdKey, hash);

    /// <summary>Seals a blob; in an unencrypted repository the bytes are stored as they are (the id verifies them).</summary>
    public byte[] SealBlob(ReadOnlySpan<byte> data, BlobId id)
    {
        if (EncryptionKey is null) return data.ToArray();
        Span<byte> ad = stackalloc byte[BlobId.Size];
        id.WriteTo(ad);
        return Seal(EncryptionKey, data, ad);
    }

    /// <summary>Opens a sealed blob, or null when it does not authenticate.</summary>
    public byte[]? OpenBlob(ReadOnlySpan<byte> stored, BlobId id)
    {
        if (EncryptionKey is null) return stored.ToArray();
        Span<byte> ad = stackalloc byte[BlobId.Size];
        id.WriteTo(ad);
        return Open(EncryptionKey, stored, ad);
    }

    /// <summary>
    /// Seals a whole file's payload (config, index, snapshot, lock, pack header) bound to <paramref name="purpose"/>;
    /// unencrypted repositories append <c>SHA-256(purpose | payload)</c> instead, so damage is still detected.
    /// </summary>
    public byte[] SealFile(ReadOnlySpan<byte> payload, string purpose)
    {
        var ad = Encoding.UTF8.GetBytes(purpose);
        if (EncryptionKey is not null) return Seal(EncryptionKey, payload, ad);
        var result = new byte[payload.Length + 32];
        payload.CopyTo(result);
        Checksum(ad, payload, result.AsSpan(payload.Length));
        return result;
    }

    /// <summary>Opens what <see cref="SealFile"/> made, or null when it does not authenticate.</summary>
    public byte[]? OpenFile(ReadOnlySpan<byte> stored, string purpose)
    {
        var ad = Encoding.UTF8.GetBytes(purpose);
        if (EncryptionKey is not null) return Open(EncryptionKey, stored, ad);
        if (stored.Length < 32) return null;
        var payload = stored[..^32];
        Span<byte> sum = stackalloc byte[32];
        Checksum(ad, payload, sum);
        return CryptographicOperations.FixedTimeEquals(sum, stored[^32..]) ? payload.ToArray() : null;
    }

    /// <summary>The bytes a sealed file of <paramref name="payloadLength"/> bytes takes.</summary>
    public int SealedLength(int payloadLength) => payloadLength + (EncryptionKey is null ? 32 : NonceSize + TagSize);

    /// <summary>AES-256-GCM with a random nonce: <c>nonce | ciphertext | tag</c> (<see cref="Security.PassphraseKey.Seal"/>).</summary>
    public static byte[] Seal(byte[] key, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> ad) => Security.PassphraseKey.Seal(key, plaintext, ad);

    /// <summary>Opens <c>nonce | ciphertext | tag</c>, or null when the tag does not match.</summary>
    public static byte[]? Open(byte[] key, ReadOnlySpan<byte> sealedData, ReadOnlySpan<byte> ad) => Security.PassphraseKey.Open(key, sealedData, ad);

    private static void Checksum(ReadOnlySpan<byte> ad, ReadOnlySpan<byte> payload, Span<byte> into)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(ad);
        sha.AppendData(payload);
        sha.GetHashAndReset(into);
    }
}
