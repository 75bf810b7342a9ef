namespace Ceso.Engine.Backup;

/// <summary>
/// The file layout every backend keeps (docs/repository-format.md): <c>config</c>, <c>keys/</c>, <c>data/xx/</c>,
/// <c>index/</c>, <c>snapshots/</c>, <c>locks/</c>, and which names are repository file names.
/// </summary>
internal static class RepositoryLayout
{
    /// <summary>The folder of a kind of file ("" for the config).</summary>
    public static string FolderOf(FileKind kind) => kind switch
    {
        FileKind.Key => "keys",
        FileKind.Pack => "data",
        FileKind.Index => "index",
        FileKind.Snapshot => "snapshots",
        FileKind.Lock => "locks",
        _ => "",
    };

    /// <summary>Refuses a name that is not a repository file name (hidden, a path, a line break or NUL, too short).</summary>
    public static void CheckName(string name)
    {
        if (name.Length < 2 || name.StartsWith('.') || name.IndexOfAny(['/', '\\', ':', '\n', '\0']) >= 0)
        {
            throw BackupErrors.Invalid($"'{name}' is not a repository file name.");
        }
    }
}
