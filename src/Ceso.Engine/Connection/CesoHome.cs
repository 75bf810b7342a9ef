namespace Ceso.Engine.Connection;

/// <summary>Ceso's local state folder: $CESO_HOME, else ~/.ceso.</summary>
public sealed record CesoHome(string Path)
{
    /// <summary>
    /// What chooses and unlocks the credential store of this home (CESO_CREDENTIAL_STORE, CESO_CREDENTIAL_PASSPHRASE,
    /// the session bus), filled in by the front end from its environment; null: the platform's default store, and an
    /// encrypted file without a passphrase (which lists, but neither loads nor saves).
    /// </summary>
    public Security.Credentials.CredentialStoreSettings? CredentialSettings { get; init; }

    /// <summary>The folder named by CESO_HOME, or ~/.ceso.</summary>
    public static CesoHome FromEnvironment()
    {
        var env = Environment.GetEnvironmentVariable("CESO_HOME");
        return new CesoHome(string.IsNullOrWhiteSpace(env)
            ? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ceso")
            : env);
    }

    /// <summary>A file under the folder; its directory is created.</summary>
    public string File(params string[] parts)
    {
        var full = System.IO.Path.Combine([Path, .. parts]);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        return full;
    }

    /// <summary>Writes a file atomically (temp file + rename), so a crash never leaves half a file.</summary>
    public static void WriteAtomic(string path, string text)
    {
        var tmp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        System.IO.File.WriteAllText(tmp, text);
        System.IO.File.Move(tmp, path, overwrite: true);
    }
}
