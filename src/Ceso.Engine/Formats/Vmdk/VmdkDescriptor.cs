using System.Globalization;
using System.Text.RegularExpressions;

namespace Ceso.Engine.Formats.Vmdk;

/// <summary>
/// The text descriptor of a VMware virtual disk (the small <c>.vmdk</c> beside a <c>-flat.vmdk</c>), as VMware's
/// "Virtual Disk Format 5.0" describes it: a create type, extents (<c>RW 8388608 VMFS "web01-flat.vmdk"</c>, sizes in
/// 512-byte sectors) and, for a snapshot's delta, the parent it sits on. Backups read and restores write the
/// extents of flat (<c>vmfs</c>/<c>monolithicFlat</c>) disks only; other kinds are named so a caller can refuse them.
/// </summary>
public sealed partial record VmdkDescriptor
{
    /// <summary>The createType: <c>vmfs</c>, <c>monolithicFlat</c>, <c>vmfsSparse</c> (a delta), <c>seSparse</c>, ….</summary>
    public required string CreateType { get; init; }

    /// <summary>The extents in order.</summary>
    public required IReadOnlyList<VmdkExtent> Extents { get; init; }

    /// <summary>The parent's file name for a delta disk (<c>parentFileNameHint</c>); null for a base disk.</summary>
    public string? ParentFileName { get; init; }

    /// <summary>Whether <c>ddb.thinProvisioned = "1"</c>.</summary>
    public bool Thin { get; init; }

    /// <summary>The disk's size in bytes: the sum of its extents.</summary>
    public long CapacityBytes => Extents.Sum(e => e.Sectors * 512);

    /// <summary>Whether the disk is one flat extent that can be read and written as a plain file (what backup supports).</summary>
    public bool IsSingleFlat =>
        ParentFileName is null && Extents.Count == 1 && Extents[0].Type is "VMFS" or "FLAT"
        && CreateType is "vmfs" or "monolithicFlat";

    /// <summary>Parses a descriptor; <see cref="FormatException"/> when it has no extent line or is not a descriptor.</summary>
    public static VmdkDescriptor Parse(string text)
    {
        string? createType = null, parent = null;
        var thin = false;
        var extents = new List<VmdkExtent>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (Extent().Match(line) is { Success: true } m)
            {
                extents.Add(new VmdkExtent(m.Groups[1].Value, long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), m.Groups[3].Value, m.Groups[4].Value));
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                continue;
            }

            var key = line[..eq].Trim();
            var value = line[(eq + 1)..].Trim().Trim('"');
            switch (key)
            {
                case "createType":
                    createType = value;
                    break;
                case "parentFileNameHint":
                    parent = value;
                    break;
                case "ddb.thinProvisioned":
                    thin = value == "1";
                    break;
            }
        }

        if (createType is null || extents.Count == 0)
        {
            throw new FormatException(createType is null ? "no createType line" : "no extent line");
        }

        return new VmdkDescriptor { CreateType = createType, Extents = extents, ParentFileName = parent, Thin = thin };
    }

    /// <summary>The data file of the disk's single flat extent, resolved beside <paramref name="descriptor"/>.</summary>
    public DatastorePath FlatFile(DatastorePath descriptor) => descriptor.Folder.Child(Extents[0].File);

    [GeneratedRegex("^(RW|RDONLY|NOACCESS)\\s+(\\d+)\\s+([A-Z]+)\\s+\"([^\"]+)\"")]
    private static partial Regex Extent();
}

/// <summary>One extent line of a descriptor.</summary>
/// <param name="Access">RW, RDONLY or NOACCESS.</param>
/// <param name="Sectors">Its size in 512-byte sectors.</param>
/// <param name="Type">VMFS, FLAT, VMFSSPARSE, SESPARSE, ….</param>
/// <param name="File">Its file name, relative to the descriptor's folder.</param>
public sealed record VmdkExtent(string Access, long Sectors, string Type, string File);
