namespace Ceso.Engine.Security;

/// <summary>
/// VMs protected by configuration: $CESO_HOME/protected-vms.txt, one "server/vm" or "vm" per line (# comments).
/// Protection by notes tag ([ceso:protected]) travels with the VM; this list protects VMs whose notes Ceso may not edit.
/// </summary>
public sealed class ProtectionList(Connection.CesoHome home)
{
    /// <summary>The list file.</summary>
    public string Path { get; } = System.IO.Path.Combine(home.Path, "protected-vms.txt");

    /// <summary>Whether the VM is listed.</summary>
    public bool IsListed(string server, string vm) =>
        File.Exists(Path) && File.ReadLines(Path)
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Any(l => l == vm || l == $"{server}/{vm}");
}
