using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ceso.Engine.CloudInit;
using Ceso.Engine.Connection;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;
using Ceso.Engine.Shell;

namespace Ceso.Engine.Templates;

/// <summary>What the boot probe gives the disposable copy through guestinfo, and how long it waits for the report.</summary>
public sealed record BootProbeRequest
{
    /// <summary>How long the copy may run before the probe gives up (it powers itself off when it has reported).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The static address (CIDR) the copy gets. Default: 192.0.2.10/24, in TEST-NET-1 (RFC 5737), which no network
    /// routes, so the copy cannot take a real machine's address on the template's portgroup.
    /// </summary>
    public string IPAddress { get; init; } = "192.0.2.10/24";

    /// <summary>The gateway; null = the subnet's first host.</summary>
    public string? Gateway { get; init; }

    /// <summary>How often the copy's power state and serial file are read.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(3);
}


/// <summary>The probe did not report in time: names what was last seen.</summary>
public sealed class BootProbeTimeoutException(string message) : CesoException("BootProbeTimeout", CesoErrorKind.InvalidState, message);

/// <summary>
/// One run of the boot probe: the copy's name, what it was told, and — once the plan's wait step ran — what its guest
/// wrote to the serial port. <see cref="Checks"/> judges that.
/// </summary>
public sealed class BootProbeRun
{
    internal BootProbeRun(string template, string probeVm, DatastorePath serial, string hostname, string ipAddress, string sshKey)
    {
        (Template, ProbeVm, SerialFile, Hostname, IPAddress, SshKey) = (template, probeVm, serial, hostname, ipAddress, sshKey);
    }

    /// <summary>The template's VM name.</summary>
    public string Template { get; }

    /// <summary>The disposable copy's name (<c>&lt;template&gt;-ceso-probe-&lt;8 hex&gt;</c>).</summary>
    public string ProbeVm { get; }

    /// <summary>The copy's file-backed serial port.</summary>
    public DatastorePath SerialFile { get; }

    /// <summary>The hostname given through guestinfo.</summary>
    public string Hostname { get; }

    /// <summary>The static address (CIDR) given through guestinfo.</summary>
    public string IPAddress { get; }

    /// <summary>The SSH public key given through guestinfo (nobody holds its private key).</summary>
    public string SshKey { get; }

    /// <summary>What the serial port held when the copy had powered off; null before the wait step ran.</summary>
    public string? SerialText { get; internal set; }

    /// <summary>The guest checks judged from <see cref="SerialText"/>.</summary>
    public IReadOnlyList<TemplateCheck> Checks() => GuestChecks.Evaluate(this);
}

/// <summary>
/// Test-CesoTemplate -Boot: a plan that makes a disposable thin copy of the template (<see cref="VmCopy"/>: new
/// folder, disks copied thin, a .vmx with a new identity), gives it a file-backed serial port and cloud-init guestinfo
/// (static address, hostname, an SSH key, and a probe cloud-config whose runcmd writes a JSON report to /dev/ttyS0
/// and powers the guest off), powers it on, waits until it is off again, reads the serial file, and removes the copy
/// in a cleanup step — after success, failure, timeout and Ctrl+C alike.
/// </summary>
public sealed class BootProbe(CesoSession session, CesoHome home)
{
    /// <summary>Host checks that must pass before a template is booted: a copy of it would be wrong or impossible.</summary>
    public static IReadOnlyList<string> Blocking { get; } = [TemplateCheckName.PoweredOff, TemplateCheckName.Snapshots, TemplateCheckName.Disks];

    /// <summary>The embedded probe script (BootProbe.sh).</summary>
    public static string Script { get; } = ReadScript();

    /// <summary>Plans the probe of the template a host report is about; the report's blocking checks must have passed.</summary>
    public async Task<(Plan Plan, BootProbeRun Run)> PlanAsync(TemplateReport hostReport, BootProbeRequest request, CancellationToken ct = default)
    {
        if (hostReport.Checks.Where(c => Blocking.Contains(c.Name) && !c.Passed).Select(c => c.Name).ToList() is { Count: > 0 } blocked)
        {
            throw new CesoException("TemplateNotBootable", CesoErrorKind.InvalidState,
                $"'{hostReport.Vm}' is not booted: its host check(s) {string.Join(", ", blocked)} failed, so a copy of it would be wrong. Fix them first (Test-CesoTemplate shows how).")
            { Target = hostReport.Name, Host = session.Server };
        }

        var context = new OperationContext(session, home);
        var vms = await session.Inventory.GetVmsAsync(ct).ConfigureAwait(false);
        var template = vms.FirstOrDefault(v => v.Id == hostReport.VmId)
            ?? throw new CesoException("TemplateNotFound", CesoErrorKind.NotFound, $"'{hostReport.Vm}' (id {hostReport.VmId}) is no longer on {session.Server}.") { Target = hostReport.Name, Host = session.Server };
        var hex = Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
        var probeName = $"{(template.Name.Length > 60 ? template.Name[..60] : template.Name)}-ceso-probe-{hex}";
        var hostname = "ceso-probe-" + hex;
        var key = ProbeKey(hex);
        var folder = new DatastorePath(context.VmxPathOf(template).Datastore, probeName);
        var serial = folder.Child(probeName + ".serial.log");
        var run = new BootProbeRun(template.Name, probeName, serial, hostname, request.IPAddress, key);
        var guest = new GuestInfoRequest
        {
            VmName = probeName,
            Hostname = hostname,
            IPAddresses = [request.IPAddress],
            Gateways = request.Gateway is null ? [] : [request.Gateway],
            SshKeys = [key],
            ExtraUserData = ProbeCloudConfig(run),
        };
        // ESXi's .vmx keys of a file-backed serial port (what the host client writes for "Use output file"); a
        // relative fileName is in the VM's folder.
        var serialVmx = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["serial0.present"] = "TRUE",
            ["serial0.fileType"] = "file",
            ["serial0.fileName"] = serial.FileName,
            ["serial0.yieldOnMsrRead"] = "TRUE",
        };
        var (copy, vm) = await new VmCopy(context, new VmGuards(context)).PlanAsync(
            new CopySpec("BootProbe", template, vms, probeName, guest, null, null, null, null, null, false, true, serialVmx), ct).ConfigureAwait(false);
        var target = $"{session.Server}/{probeName}";
        var createFolder = copy.Steps[0].Title;
        var steps = copy.Steps.ToList();
        steps.Add(WaitStep(run, vm, request, target, steps[^1].Transport));
        steps.Add(RemoveStep(context, vm, folder, target, createFolder));
        var notes = copy.Notes.Append($"the copy reports to its serial port {serial}; it is removed afterwards, whatever happens").ToList();
        return (copy with { Steps = steps, Notes = notes, Vm = probeName }, run);
    }

    // Polls the copy's power state until it is off (the probe powers the guest off once it has reported), then reads
    // the serial file. A read, so nothing to undo; its timeout names what was last seen.
    // The copy's id is learnt by its register step, so the step is made for each run from that run's bindings.
    private PlanStep WaitStep(BootProbeRun run, VmRef probe, BootProbeRequest request, string target, string transport)
    {
        var command = $"every {request.PollInterval.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s until the guest has powered off (at most {Describe(request.Timeout)}): " +
                      $"read the power state of {new VmHandle(probe.Name, probe.Id).Display} and the size of {run.SerialFile}; then read {run.SerialFile}";
        async Task Wait(VmHandle vm, IProgress<StepStatus>? progress, CancellationToken ct)
        {
            var clock = Stopwatch.StartNew();
            var state = CesoPowerState.PoweredOn;
            long size = 0;
            while (true)
            {
                var seen = await VmLookup.RefreshAsync(session.Inventory, vm.Required, ct).ConfigureAwait(false)
                    ?? throw new CesoException("VmNotFound", CesoErrorKind.NotFound, $"The probe copy '{run.ProbeVm}' vanished from {session.Server} while it booted.") { Host = session.Server, Target = run.ProbeVm };
                state = seen.PowerState;
                size = await SizeAsync(run.SerialFile, ct).ConfigureAwait(false);
                if (state == CesoPowerState.PoweredOff)
                {
                    run.SerialText = size > 0 ? await session.Files.ReadTextAsync(run.SerialFile, ct).ConfigureAwait(false) : "";
                    return;
                }

                if (clock.Elapsed >= request.Timeout)
                {
                    var last = size > 0 ? LastLine(await session.Files.ReadTextAsync(run.SerialFile, ct).ConfigureAwait(false)) : null;
                    throw new BootProbeTimeoutException(
                        $"The probe copy '{run.ProbeVm}' of '{run.Template}' did not report within {Describe(request.Timeout)}: last seen {state}, serial file {run.SerialFile} " +
                        (size == 0 ? "empty or missing" : $"{size} bytes, last line '{Shorten(last ?? "")}'") +
                        ". A guest that never writes its report has not run the probe's cloud-config: cloud-init missing, the VMware datasource not chosen, or open-vm-tools missing (it reads guestinfo with vmware-rpctool), or the guest does not boot at all (check its console). Give it longer with -BootTimeoutSec.")
                    { Host = session.Server, Target = run.Template };
                }

                progress?.Report(new StepStatus((int)(100 * clock.Elapsed.TotalSeconds / request.Timeout.TotalSeconds),
                    $"{state}, serial {size} bytes, {clock.Elapsed.TotalSeconds:0} of {request.Timeout.TotalSeconds:0} s"));
                var left = request.Timeout - clock.Elapsed;
                await Task.Delay(left < request.PollInterval ? left : request.PollInterval, ct).ConfigureAwait(false);
            }
        }

        var planned = new PlanStep
        {
            Title = $"Wait for the report of '{run.ProbeVm}'",
            Target = target,
            Transport = transport,
            Command = command,
            UndoCommand = "nothing to undo (reads only)",
            Undo = _ => Task.CompletedTask,
        };
        return planned with
        {
            PerRun = bindings => planned with
            {
                Execute = ct => Wait(bindings.Vm(probe), null, ct),
                ExecuteWithStatus = (progress, ct) => Wait(bindings.Vm(probe), progress, ct),
            },
        };
    }

    // The cleanup: finds out what is there and removes it — the copy powered off if it runs, destroyed (hostd deletes
    // its files), and its folder when anything is left (the serial file, a half-made copy). It releases the folder
    // step, so it runs whenever that step started.
    private static PlanStep RemoveStep(OperationContext context, VmRef probe, DatastorePath folder, string target, string createFolder) =>
        context.Step($"Remove the probe copy '{probe.Name}'", target, new DiscardVm(probe, folder)) with
        {
            Kind = StepKind.Cleanup,
            Releases = createFolder,
            Leaves = $"the VM '{probe.Name}' and its folder {folder}",
        };

    private async Task<long> SizeAsync(DatastorePath file, CancellationToken ct)
    {
        if (!await session.Files.ExistsAsync(file, ct).ConfigureAwait(false))
        {
            return 0;
        }

        return (await session.Files.StatAsync(file, ct).ConfigureAwait(false)).Size;
    }

    /// <summary>The probe's cloud-config: one runcmd entry running the probe script with what the guest was told.</summary>
    internal static string ProbeCloudConfig(BootProbeRun run)
    {
        var address = run.IPAddress.Split('/')[0];
        var keyBlob = run.SshKey.Split(' ')[1];
        var script = $"want_host={ShellQuote.Quote(run.Hostname)}\nwant_ip={ShellQuote.Quote(address)}\nwant_key={ShellQuote.Quote(keyBlob)}\n{Script}";
        // JSON inside YAML: a flow sequence is valid YAML, so the script needs no YAML quoting of its own.
        return "#cloud-config\nruncmd:\n  - " + JsonSerializer.Serialize(new[] { "/bin/sh", "-c", script }) + "\n";
    }

    // An ed25519 public key nobody has the private key of: the probe only checks that cloud-init installs it.
    private static string ProbeKey(string hex)
    {
        var point = RandomNumberGenerator.GetBytes(32);
        using var ms = new MemoryStream();
        void Put(byte[] b)
        {
            ms.Write([(byte)(b.Length >> 24), (byte)(b.Length >> 16), (byte)(b.Length >> 8), (byte)b.Length]);
            ms.Write(b);
        }

        Put(Encoding.ASCII.GetBytes("ssh-ed25519"));
        Put(point);
        return $"ssh-ed25519 {Convert.ToBase64String(ms.ToArray())} ceso-probe-{hex}";
    }

    private static string ReadScript()
    {
        using var s = typeof(BootProbe).Assembly.GetManifestResourceStream("Ceso.Engine.Templates.BootProbe.sh")
            ?? throw new InvalidOperationException("The boot probe script is not embedded in Ceso.Engine.");
        using var r = new StreamReader(s, Encoding.UTF8);
        return r.ReadToEnd();
    }

    private static string? LastLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();

    private static string Shorten(string s) => s.Length > 120 ? s[..120] + "…" : s;

    private static string Describe(TimeSpan t) => t >= TimeSpan.FromMinutes(1) && t.Seconds == 0
        ? $"{t.TotalMinutes.ToString("0", CultureInfo.InvariantCulture)} min"
        : $"{t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s";
}
