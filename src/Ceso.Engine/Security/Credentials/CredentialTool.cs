using System.Diagnostics;

namespace Ceso.Engine.Security.Credentials;

/// <summary>What a keyring tool printed and how it exited.</summary>
internal sealed record ToolResult(int ExitCode, string Stdout, string Stderr);

/// <summary>
/// Runs a keyring tool (secret-tool, security). Arguments carry names only; a secret goes to the tool on stdin and
/// comes back on stdout, so it never shows in the process list (/proc/*/cmdline, ps). Bounded: a keyring that waits for
/// an unlock prompt nobody can answer is killed and reported, never left hanging.
/// </summary>
internal sealed class CredentialTool(string executable, string store, IReadOnlyDictionary<string, string?>? environment, TimeSpan timeout)
{
    public string Executable { get; } = executable;

    /// <summary>The same tool with another bound (a quick probe).</summary>
    public CredentialTool WithTimeout(TimeSpan bound) => new(Executable, store, environment, bound);

    public async Task<ToolResult> RunAsync(IEnumerable<string> arguments, string? stdin, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(Executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            psi.Environment[name] = value;
        }

        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw CredentialErrors.Unavailable(store, $"'{Executable}' could not be started ({e.Message}).", e);
        }

        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try
        {
            if (stdin is not null) await process.StandardInput.WriteAsync(stdin.AsMemory(), ct).ConfigureAwait(false);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // the tool exited before reading: its exit code and stderr say why
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            ct.ThrowIfCancellationRequested();
            throw CredentialErrors.Unavailable(store, $"'{Executable}' did not answer in {timeout.TotalSeconds:0} s; a locked keyring may be waiting for an unlock prompt. " +
                "Unlock it (e.g. log in to the desktop session), or use the encrypted file: $env:CESO_CREDENTIAL_STORE = 'file' with $env:CESO_CREDENTIAL_PASSPHRASE.");
        }

        return new ToolResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}
