using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Ceso.Engine.Formats;
using Ceso.Engine.Shell;
using Ceso.Engine.Ssh;

namespace Ceso.Engine.Hosts;

/// <summary>
/// Disk copies over SSH with progress that moves even when vmkfstools says nothing while it runs. vmkfstools repaints
/// "Clone: 37% done." on a terminal, but over a session without one (Ceso's framed shell) its stdout may be held back
/// until it ends. So while it is silent, Ceso measures the copy itself: the space the destination's -flat.vmdk holds
/// against the source's (<c>du -k</c>, which counts allocated blocks, so a thin copy of a sparse disk is measured by
/// its data, not by its apparent size). The measurement runs as its own read-only command on a second SSH connection
/// (<see cref="SshSession.RunDetachedAsync"/>), because the shared shell runs one command at a time and the copy
/// itself must run exactly as the plan shows it.
/// </summary>
public sealed partial class SshHostCommands
{
    /// <summary>How long vmkfstools may stay silent before Ceso measures the copy, and how often it measures then.</summary>
    internal TimeSpan CopyPollInterval { get; init; } = TimeSpan.FromSeconds(2);

    private async Task CopyWithProgressAsync(string command, DatastorePath source, DatastorePath target, IProgress<int> progress, CancellationToken ct)
    {
        var gate = new object();
        var last = -1;
        var heard = Stopwatch.GetTimestamp();
        void Report(int percent, bool fromTool)
        {
            lock (gate)
            {
                if (fromTool)
                {
                    heard = Stopwatch.GetTimestamp();
                }

                if (percent > last)
                {
                    last = percent;
                    progress.Report(percent);
                }
            }
        }

        TimeSpan Silence()
        {
            lock (gate)
            {
                return Stopwatch.GetElapsedTime(heard);
            }
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var sampler = MeasureCopyAsync(source, target, p => Report(p, fromTool: false), Silence, stop.Token);
        try
        {
            (await ssh.RunAsync(command, text =>
            {
                foreach (Match m in Percent().Matches(text))
                {
                    Report(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), fromTool: true);
                }
            }, ct).ConfigureAwait(false)).EnsureSuccess(server);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await sampler.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // the copy ended
            }
        }
    }

    private async Task MeasureCopyAsync(DatastorePath source, DatastorePath target, Action<int> report, Func<TimeSpan> silence, CancellationToken ct)
    {
        var sourceFlat = FlatOf(source);
        var targetFlat = FlatOf(target);
        var line = ShellQuote.Join("du", "-k", sourceFlat, targetFlat);
        while (true)
        {
            await Task.Delay(CopyPollInterval, ct).ConfigureAwait(false);
            if (silence() < CopyPollInterval)
            {
                continue; // vmkfstools reports by itself
            }

            SshResult r;
            try
            {
                r = await ssh.RunDetachedAsync(line, ct).ConfigureAwait(false);
            }
            catch (CesoException)
            {
                continue; // a measurement that fails costs one progress update, never the copy
            }

            if (CopiedPercent(r.Stdout, sourceFlat, targetFlat) is { } percent)
            {
                report(percent);
            }
        }
    }

    /// <summary>
    /// Percent copied from <c>du -k SOURCE TARGET</c> output ("KB&lt;tab&gt;path" lines): the target's allocated KB
    /// against the source's, at most 99 (only vmkfstools says when it is done). Null when either line is missing (the
    /// target does not exist yet) or the source holds nothing.
    /// </summary>
    internal static int? CopiedPercent(string duOutput, string sourcePath, string targetPath)
    {
        long? source = null, target = null;
        foreach (Match m in DuLine().Matches(duOutput.Replace("\r", "", StringComparison.Ordinal)))
        {
            var kb = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            var path = m.Groups[2].Value;
            if (path == sourcePath)
            {
                source = kb;
            }
            else if (path == targetPath)
            {
                target = kb;
            }
        }

        return source is > 0 && target is { } t ? (int)Math.Min(99, t * 100 / source.Value) : null;
    }

    // A VMFS flat disk's data file is <name>-flat.vmdk beside its descriptor <name>.vmdk (what vmkfstools -c/-i write).
    private static string FlatOf(DatastorePath disk) =>
        (disk.Vmfs.EndsWith(".vmdk", StringComparison.OrdinalIgnoreCase) ? disk.Vmfs[..^5] : disk.Vmfs) + "-flat.vmdk";

    [GeneratedRegex(@"^(\d+)\s+(.+)$", RegexOptions.Multiline)]
    private static partial Regex DuLine();
}
