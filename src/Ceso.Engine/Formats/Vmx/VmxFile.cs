using System.Text;
using System.Text.RegularExpressions;

namespace Ceso.Engine.Formats;

/// <summary>
/// A .vmx file: ordered <c>key = "value"</c> lines. Keys are case-insensitive as hostd treats them; values are
/// stored unescaped (the file escapes '"', '|' and control characters as |XX hex, e.g. |22 for a quote).
/// </summary>
public sealed partial class VmxFile
{
    private readonly List<KeyValuePair<string, string>> _entries = [];

    /// <summary>Parses .vmx text; comments and blank lines are dropped.</summary>
    public static VmxFile Parse(string text)
    {
        var vmx = new VmxFile();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var m = Line().Match(line);
            if (!m.Success)
            {
                throw new FormatException($"Unreadable .vmx line: {line}");
            }

            vmx.Set(m.Groups[1].Value, Unescape(m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value));
        }

        return vmx;
    }

    /// <summary>All entries in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Entries => _entries;

    /// <summary>The value of a key, or null.</summary>
    public string? this[string key] => _entries.FirstOrDefault(e => e.Key.Equals(key, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>Sets a key (replacing it in place, or appending).</summary>
    public void Set(string key, string value)
    {
        var i = _entries.FindIndex(e => e.Key.Equals(key, StringComparison.OrdinalIgnoreCase));
        if (i >= 0)
        {
            _entries[i] = new(_entries[i].Key, value);
        }
        else
        {
            _entries.Add(new(key, value));
        }
    }

    /// <summary>Removes every key that matches the predicate.</summary>
    public void RemoveWhere(Func<string, bool> match) => _entries.RemoveAll(e => match(e.Key));

    /// <summary>Removes a key.</summary>
    public void Remove(string key) => RemoveWhere(k => k.Equals(key, StringComparison.OrdinalIgnoreCase));

    /// <summary>The NIC indexes present (<c>ethernetN.present = "TRUE"</c>).</summary>
    public IReadOnlyList<int> NicIndexes() => Indexes(EthernetPresent());

    /// <summary>The disk slots present (scsi0:0, nvme0:1, sata0:2 …) whose fileName ends in .vmdk.</summary>
    public IReadOnlyList<string> DiskSlots() => _entries
        .Select(e => DiskFile().Match(e.Key))
        .Where(m => m.Success)
        .Select(m => m.Groups[1].Value)
        .Where(slot => this[slot + ".fileName"] is { } f && f.EndsWith(".vmdk", StringComparison.OrdinalIgnoreCase)
                       && !string.Equals(this[slot + ".present"], "FALSE", StringComparison.OrdinalIgnoreCase)
                       && !string.Equals(this[slot + ".deviceType"], "cdrom-image", StringComparison.OrdinalIgnoreCase))
        .Distinct(StringComparer.OrdinalIgnoreCase)
        .ToList();

    /// <summary>The file text, one <c>key = "value"</c> per line.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var (k, v) in _entries)
        {
            sb.Append(k).Append(" = \"").Append(Escape(v)).Append("\"\n");
        }

        return sb.ToString();
    }

    private IReadOnlyList<int> Indexes(Regex r) => _entries
        .Select(e => r.Match(e.Key))
        .Where((m, i) => m.Success && string.Equals(_entries[i].Value, "TRUE", StringComparison.OrdinalIgnoreCase))
        .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
        .Distinct()
        .Order()
        .ToList();

    private static string Escape(string v)
    {
        var sb = new StringBuilder(v.Length);
        foreach (var c in v)
        {
            if (c is '"' or '|' || c < 0x20)
            {
                sb.Append('|').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    private static string Unescape(string v) =>
        Hex().Replace(v, m => ((char)Convert.ToInt32(m.Groups[1].Value, 16)).ToString());

    [GeneratedRegex("^([A-Za-z0-9_.:\\-]+)\\s*=\\s*(?:\"(.*)\"|(\\S*))$")]
    private static partial Regex Line();

    [GeneratedRegex("\\|([0-9A-Fa-f]{2})")]
    private static partial Regex Hex();

    [GeneratedRegex("^ethernet(\\d+)\\.present$", RegexOptions.IgnoreCase)]
    private static partial Regex EthernetPresent();

    [GeneratedRegex("^((?:scsi|sata|nvme|ide)\\d+:\\d+)\\.fileName$", RegexOptions.IgnoreCase)]
    private static partial Regex DiskFile();
}
