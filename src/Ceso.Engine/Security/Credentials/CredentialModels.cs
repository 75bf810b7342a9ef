using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Ceso.Engine.Security.Credentials;

/// <summary>What Get-CesoCredential shows of a stored entry: its name and metadata, never the secret.</summary>
/// <param name="Name">The entry's name (a server name, <c>repository:&lt;name&gt;</c>, or any name the user chose).</param>
/// <param name="Kind"><c>Credential</c> (a user name and a password) or <c>Password</c> (a password alone).</param>
/// <param name="UserName">The user name of a Credential; null for a Password.</param>
/// <param name="Store">The store's kind: file, secret-service, dpapi, keychain.</param>
/// <param name="SavedAt">When it was saved (UTC).</param>
public sealed record CesoCredential(string Name, string Kind, string? UserName, string Store, DateTimeOffset SavedAt);

/// <summary>A stored entry with its secret. Its <see cref="ToString"/> never shows the password.</summary>
/// <param name="Name">The entry's name.</param>
/// <param name="Kind"><see cref="CredentialSecret.CredentialKind"/> or <see cref="CredentialSecret.PasswordKind"/>.</param>
/// <param name="UserName">The user name of a Credential; null for a Password.</param>
/// <param name="Password">The secret.</param>
/// <param name="SavedAt">When it was saved (UTC).</param>
public sealed partial record CredentialSecret(string Name, string Kind, string? UserName, string Password, DateTimeOffset SavedAt)
{
    /// <summary>A user name and a password.</summary>
    public const string CredentialKind = "Credential";

    /// <summary>A password alone (a backup repository's).</summary>
    public const string PasswordKind = "Password";

    /// <summary>The prefix of a backup repository's password entry: <c>repository:&lt;name&gt;</c>.</summary>
    public const string RepositoryPrefix = "repository:";

    /// <summary>The metadata, without the secret.</summary>
    public CesoCredential Describe(string store) => new(Name, Kind, UserName, store, SavedAt);

    /// <summary>Names the entry, never its password.</summary>
    public override string ToString() => $"{Kind} '{Name}'{(UserName is null ? "" : $" (user '{UserName}')")}";

    /// <summary>True for a name a store accepts: a letter or digit first, then letters, digits and <c>._@:-</c>, at most 128.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>The entry name of a backup repository's password.</summary>
    public static string RepositoryEntry(string repository) => RepositoryPrefix + repository;

    /// <summary>
    /// The secret and its metadata as one line of ASCII (<c>ceso1:</c> + base64 of JSON), for the OS keyrings: no quote,
    /// space or newline, so it passes through <c>security -i</c> and a <c>secret-tool</c> listing unchanged.
    /// </summary>
    internal string ToPayload() =>
        Payload.Prefix + Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(new Payload(Kind, UserName, Password, SavedAt), CredentialJson.Options));

    /// <summary>Reads <see cref="ToPayload"/>'s text back; null when it is not one.</summary>
    internal static CredentialSecret? FromPayload(string name, string text)
    {
        text = text.Trim();
        if (!text.StartsWith(Payload.Prefix, StringComparison.Ordinal)) return null;
        try
        {
            var p = JsonSerializer.Deserialize<Payload>(Convert.FromBase64String(text[Payload.Prefix.Length..]), CredentialJson.Options);
            return p is { Password: not null } && p.Kind is CredentialKind or PasswordKind ? new CredentialSecret(name, p.Kind, p.UserName, p.Password, p.SavedAt) : null;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$")]
    private static partial Regex NamePattern();

    private sealed record Payload(string Kind, string? UserName, string Password, DateTimeOffset SavedAt)
    {
        public const string Prefix = "ceso1:";
    }
}

/// <summary>The JSON options of the credential files and payloads.</summary>
internal static class CredentialJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    /// <summary>The associated data an entry's sealed bytes are bound to: swapping, renaming or relabelling an entry breaks it.</summary>
    public static byte[] EntryBinding(string name, string kind, string? userName) =>
        Encoding.UTF8.GetBytes($"ceso:credential:{name}\n{kind}\n{userName}");
}
