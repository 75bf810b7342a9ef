using System.Text.RegularExpressions;

namespace Ceso.Engine.Security;

/// <summary>
/// Removes secrets from text before it reaches a log, an error, verbose output or -WhatIf. Knows the secret values it
/// was told about (passwords, tokens, user-data marked secret) and recognises private keys and password-like
/// assignments by shape, so a secret that was never registered is still unlikely to leak.
/// </summary>
public sealed partial class Redactor
{
    /// <summary>What replaces a secret.</summary>
    public const string Mask = "<redacted>";

    private readonly List<string> _secrets = [];

    /// <summary>Registers a secret value; every later occurrence (and its base64 form) is masked.</summary>
    public void Add(string? secret)
    {
        if (string.IsNullOrEmpty(secret) || secret.Length < 4)
        {
            return; // masking very short strings would shred ordinary text; such secrets are refused elsewhere
        }

        lock (_secrets)
        {
            foreach (var form in new[] { secret, Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(secret)) })
            {
                if (!_secrets.Contains(form))
                {
                    _secrets.Add(form);
                }
            }

            _secrets.Sort((a, b) => b.Length.CompareTo(a.Length)); // longest first, so a secret inside another is not half-masked
        }
    }

    /// <summary>Returns the text with every known and recognisable secret masked.</summary>
    public string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? "";
        }

        lock (_secrets)
        {
            foreach (var s in _secrets)
            {
                text = text.Replace(s, Mask, StringComparison.Ordinal);
            }
        }

        text = PrivateKey().Replace(text, Mask);
        return Assignment().Replace(text, m => m.Groups[1].Value + Mask);
    }

    [GeneratedRegex(@"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)")]
    private static partial Regex PrivateKey();

    // password=..., "token": "...", --password '...'; the value up to whitespace, a quote or a comma.
    [GeneratedRegex(@"((?:password|passwd|secret|token|apikey|api_key|access_key|secret_key)[""']?\s*[:=]\s*[""']?|--password[ =]['""]?)(?!<redacted>)[^\s""',]+", RegexOptions.IgnoreCase)]
    private static partial Regex Assignment();
}
