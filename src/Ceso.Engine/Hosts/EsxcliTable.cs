namespace Ceso.Engine.Hosts;

/// <summary>
/// Reads esxcli's default table output: a header line, a line of dash groups that gives each column's width, then
/// rows. Column text is taken by position, so names with spaces (datastores, portgroups) stay whole.
/// </summary>
internal static class EsxcliTable
{
    public static IReadOnlyList<IReadOnlyDictionary<string, string>> Parse(string text)
    {
        var lines = text.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        var dash = Array.FindIndex(lines, l => l.Trim().Length > 0 && l.Trim().All(c => c is '-' or ' '));
        if (dash < 1)
        {
            throw new FormatException("Unreadable esxcli output: no table header underline.");
        }

        var columns = new List<(int Start, int End)>();
        var u = lines[dash];
        for (var i = 0; i < u.Length;)
        {
            if (u[i] != '-')
            {
                i++;
                continue;
            }

            var start = i;
            while (i < u.Length && u[i] == '-')
            {
                i++;
            }

            columns.Add((start, i));
        }

        string Cell(string line, int c)
        {
            var start = columns[c].Start;
            if (start >= line.Length)
            {
                return "";
            }

            var end = c == columns.Count - 1 ? line.Length : Math.Min(line.Length, columns[c + 1].Start);
            return line[start..end].Trim();
        }

        var names = Enumerable.Range(0, columns.Count).Select(c => Cell(lines[dash - 1], c)).ToArray();
        var rows = new List<IReadOnlyDictionary<string, string>>();
        foreach (var line in lines.Skip(dash + 1).Where(l => l.Trim().Length > 0))
        {
            var row = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var c = 0; c < columns.Count; c++)
            {
                row[names[c]] = Cell(line, c);
            }

            rows.Add(row);
        }

        return rows;
    }
}
