using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Ceso.Engine.CloudInit;

/// <summary>
/// The static addresses a VM's <c>guestinfo.metadata</c> gives its guest (network config v2 under <c>network</c>), so
/// an address a VM will take at its next boot counts as used even before VMware Tools report it. Reads what Ceso
/// writes (JSON) and, for metadata written by other tools (YAML), every CIDR-form address in the text.
/// </summary>
public static partial class GuestInfoAddresses
{
    /// <summary>The addresses (without prefix) in a metadata value; empty when it cannot be decoded.</summary>
    /// <param name="metadata">The value of guestinfo.metadata.</param>
    /// <param name="encoding">The value of guestinfo.metadata.encoding: base64, gzip+base64 (also "b64", "gz+b64"), or none.</param>
    public static IReadOnlyList<IPAddress> Parse(string? metadata, string? encoding)
    {
        if (string.IsNullOrWhiteSpace(metadata))
        {
            return [];
        }

        string text;
        try
        {
            text = (encoding ?? "").Trim().ToLowerInvariant() switch
            {
                "gzip+base64" or "gz+b64" => GuestInfoBuilder.Decode(metadata.Trim()),
                "base64" or "b64" => Encoding.UTF8.GetString(Convert.FromBase64String(metadata.Trim())),
                _ => metadata,
            };
        }
        catch (Exception e) when (e is FormatException or InvalidDataException)
        {
            return [];
        }

        var found = new List<IPAddress>();
        try
        {
            if (JsonNode.Parse(text)?["network"]?["ethernets"] is JsonObject ethernets)
            {
                foreach (var (_, nic) in ethernets)
                {
                    foreach (var a in nic?["addresses"] as JsonArray ?? [])
                    {
                        Add(found, a?.GetValue<string>());
                    }
                }

                return found;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            // not JSON: read it as text below
        }

        foreach (Match m in CidrToken().Matches(text))
        {
            Add(found, m.Value);
        }

        return found;
    }

    private static void Add(List<IPAddress> list, string? cidr)
    {
        var slash = cidr?.IndexOf('/') ?? -1;
        if (slash > 0 && IPAddress.TryParse(cidr![..slash], out var ip) && !list.Contains(ip))
        {
            list.Add(ip);
        }
    }

    [GeneratedRegex(@"(?<![0-9A-Fa-f:.])[0-9A-Fa-f:.]{2,39}/[0-9]{1,3}(?![0-9])")]
    private static partial Regex CidrToken();
}
