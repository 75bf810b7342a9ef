namespace Ceso.Engine.Hosts;

/// <summary>
/// What <c>esxcli system version get</c> says. ESXi 7/8 print "Product", "Version", "Build" (<c>Releasebuild-N</c>),
/// "Update" and "Patch" as indented <c>Key: value</c> lines; ESXi 9 has a new version scheme (X.Y.Z.A, Broadcom KB
/// 395110) and more lines (a "Maintenance" field). Every line is kept, none is required to be a known release: Ceso
/// never compares versions against a list.
/// </summary>
/// <param name="Product">"VMware ESXi".</param>
/// <param name="Version">"8.0.3", "9.0.0.0".</param>
/// <param name="Build">The build number without "Releasebuild-".</param>
/// <param name="Fields">Every "Key: value" line, as printed.</param>
public sealed record EsxcliVersion(string Product, string Version, string Build, IReadOnlyDictionary<string, string> Fields)
{
    /// <summary>Reads the output; a text without a Version line is refused with a <see cref="FormatException"/>.</summary>
    public static EsxcliVersion Parse(string text)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in text.Replace("\r", "", StringComparison.Ordinal).Split('\n'))
        {
            var colon = raw.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                fields[raw[..colon].Trim()] = raw[(colon + 1)..].Trim();
            }
        }

        if (!fields.TryGetValue("Version", out var version) || version.Length == 0)
        {
            throw new FormatException("Unreadable 'esxcli system version get' output: no Version line.");
        }

        var build = fields.GetValueOrDefault("Build", "");
        var dash = build.LastIndexOf('-');
        return new EsxcliVersion(fields.GetValueOrDefault("Product", "VMware ESXi"), version, dash >= 0 ? build[(dash + 1)..] : build, fields);
    }
}
