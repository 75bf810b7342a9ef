using System.Diagnostics;
using System.Text;

namespace Ceso.Engine.Ssh;

/// <summary>Starts the system OpenSSH client with redirected streams: the one place a shell session and an SFTP
/// session get their ssh process from.</summary>
internal static class SshProcess
{
    /// <summary>Starts <see cref="SshTarget.SshExecutable"/> with <paramref name="arguments"/>; a missing client raises
    /// <see cref="SshConnectionException"/> <c>SshClientMissing</c>.</summary>
    public static Process Start(SshTarget target, IReadOnlyList<string> arguments)
    {
        var psi = new ProcessStartInfo(target.SshExecutable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        try
        {
            return Process.Start(psi) ?? throw new InvalidOperationException("Process.Start returned null");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new SshConnectionException("SshClientMissing",
                $"Could not start the OpenSSH client '{target.SshExecutable}': {e.Message}. Install it (Debian/Ubuntu: apt-get install openssh-client; Windows: the OpenSSH.Client capability).", e)
            { Host = target.Host };
        }
    }

    /// <summary>Kills ssh and whatever it started (a ProxyJump's ssh); a process already gone is not an error.</summary>
    public static void Kill(Process p)
    {
        try
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }
}
