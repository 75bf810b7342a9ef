using System.Text;
using Ceso.Engine.Connection;

namespace Ceso.Engine.Planning;

/// <summary>
/// The identities this installation has written to a host ($CESO_HOME/issued-identities.txt: one BIOS UUID or MAC per
/// line, lowercase hex without separators, appended when the step that writes a new VM's .vmx runs — also when the
/// plan then fails and is undone). A new identity must be in neither this file nor the host's inventory, so a VM that
/// is removed and planned again from the same request gets a new one, while re-planning without a run in between
/// (the -WhatIf, then the run) still gives the same plan.
/// </summary>
/// <param name="home">The local state folder.</param>
public sealed class IssuedIdentities(CesoHome home)
{
    private string File => home.File("issued-identities.txt");

    /// <summary>Every identity written so far, as <see cref="Key"/>s.</summary>
    public IReadOnlySet<string> Read()
    {
        var path = File;
        return System.IO.File.Exists(path)
            ? System.IO.File.ReadLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToHashSet(StringComparer.Ordinal)
            : new HashSet<string>(StringComparer.Ordinal);
    }

    /// <summary>Appends identities (a BIOS UUID in any form, MACs) under an exclusive lock, so parallel runs do not interleave.</summary>
    public void Record(IEnumerable<string> identities)
    {
        var text = string.Concat(identities.Select(i => Key(i) + "\n"));
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var stream = new FileStream(File, FileMode.Append, FileAccess.Write, FileShare.None);
                stream.Write(Encoding.ASCII.GetBytes(text));
                return;
            }
            catch (IOException) when (attempt < 50)
            {
                Thread.Sleep(20); // another Ceso process is appending
            }
        }
    }

    /// <summary>A BIOS UUID ("56 4d … - …", "564d…-…") or MAC ("00:50:56:…") as compared: lowercase hex digits only.</summary>
    public static string Key(string identity) =>
        new(identity.Where(Uri.IsHexDigit).Select(char.ToLowerInvariant).ToArray());
}
