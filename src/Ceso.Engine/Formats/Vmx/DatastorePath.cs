namespace Ceso.Engine.Formats;

/// <summary>A file on a datastore: <c>[datastore1] web01/web01.vmx</c> ↔ <c>/vmfs/volumes/datastore1/web01/web01.vmx</c>.</summary>
public sealed record DatastorePath(string Datastore, string Path)
{
    /// <summary>Parses "[ds] folder/file".</summary>
    public static DatastorePath Parse(string text)
    {
        var end = text.IndexOf(']');
        if (!text.StartsWith('[') || end < 2)
        {
            throw new CesoException("InvalidDatastorePath", CesoErrorKind.InvalidArgument,
                $"'{text}' is not a datastore path; write it as '[datastore] folder/file'.") { Target = text };
        }

        return new DatastorePath(text[1..end], text[(end + 1)..].TrimStart());
    }

    /// <summary>The path as the host's shell sees it.</summary>
    public string Vmfs => $"/vmfs/volumes/{Datastore}/{Path}";

    /// <summary>The folder holding the file.</summary>
    public DatastorePath Folder => this with { Path = Path.Contains('/') ? Path[..Path.LastIndexOf('/')] : "" };

    /// <summary>The file name.</summary>
    public string FileName => Path[(Path.LastIndexOf('/') + 1)..];

    /// <summary>A file in this folder.</summary>
    public DatastorePath Child(string name) => this with { Path = Path.Length == 0 ? name : Path + "/" + name };

    /// <inheritdoc />
    public override string ToString() => $"[{Datastore}] {Path}";
}
