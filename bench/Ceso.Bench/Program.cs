// Ceso benchmarks against one running test bed (testbed/bin/cesobed serve). bench/run.sh starts the test bed and
// calls this with the path of its JSON start line. Three benchmarks, each alternating the compared tools / modes in
// rounds so that machine noise hits all alike:
//   discovery  Ceso's GetVmsAsync (SOAP) vs govmomi (bench/govmomi-discovery), same property paths, same VMs
//   ssh        vim-cmd through SshSession.RunAsync (one persistent shell) vs RunDetachedAsync (one ssh process each)
//   lifecycle  engine overhead (wall time - host wait) of New-CesoVm and Copy-CesoVm over SOAP and over SSH
//              (run.sh gives it its own small test bed)
//   backup     Backup-CesoVm cold + incremental and restore of a 4 GiB disk vs restic and borg (BackupBench.cs)
//   backends   the same backup v1, v2 and restore into each repository backend (directory, SFTP, S3 on Swift) vs restic's
//              local, SFTP and S3 backends on the same servers (BackendsBench.cs)
//   reads      SSH discovery and one New-CesoVm with the bed's per-command delay of a real host (run.sh: delayMs=150,
//              4 and 50 VMs): before (one shell command per vim-cmd) and after (batched: python helper, shell loop)
// BENCH selects: all (default), or a comma-separated list of discovery, ssh, lifecycle, reads, backup, backends.
using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Security;
using Ceso.Engine.Soap;
using Ceso.Engine.Ssh;
using Ceso.Engine.Vmodl;
using Ceso.Engine.Operations;

var bedFile = args.Length > 0 ? args[0] : throw new ArgumentException("usage: Ceso.Bench TESTBED.json [GOVMOMI-DISCOVERY-EXE]");
var govmomiExe = args.Length > 1 ? args[1] : null;
var bed = JsonDocument.Parse(File.ReadAllText(bedFile)).RootElement;
string S(string name) => bed.GetProperty(name).GetString()!;
int Env(string name, int def) => int.TryParse(Environment.GetEnvironmentVariable(name), out var v) && v > 0 ? v : def;
var runs = Env("RUNS", 15);
var sshRuns = Env("SSH_RUNS", 200);
var freshRuns = Env("FRESH_RUNS", 20);
var lifecycleRuns = Env("LIFECYCLE_RUNS", 20);

var home = new CesoHome(Path.Combine(Path.GetTempPath(), "ceso-bench-home-" + Guid.NewGuid().ToString("N")));
try
{
    // all, or a comma-separated list of discovery, ssh, lifecycle
    var only = (Environment.GetEnvironmentVariable("BENCH") is { Length: > 0 } b ? b : "all").Split(',', StringSplitOptions.TrimEntries);
    bool Selected(string name) => only.Contains("all") || only.Contains(name);
    if (only.Except(["all", "discovery", "ssh", "lifecycle", "reads", "backup", "backends"]).FirstOrDefault() is { } unknown)
    {
        throw new ArgumentException($"BENCH={unknown}: use all, discovery, ssh, lifecycle, reads, backup or backends (or a comma-separated list)");
    }

    if (Selected("discovery"))
    {
        await Discovery();
    }

    if (Selected("ssh"))
    {
        await Ssh();
    }

    if (Selected("lifecycle"))
    {
        await Lifecycle();
    }

    // Only when asked for by name: it needs its own test beds with a delay (run.sh starts them).
    if (only.Contains("reads"))
    {
        await Reads();
    }

    // Only by name too: a 2-VM test bed, a 4 GiB disk, restic and borg (BackupBench.cs).
    if (only.Contains("backup"))
    {
        await Ceso.Bench.BackupBench.RunAsync(bed, home, Env("BACKUP_RUNS", 3));
    }

    // Only by name: the backup into each backend, with Swift started by run.sh (BackendsBench.cs).
    if (only.Contains("backends"))
    {
        await Ceso.Bench.BackendsBench.RunAsync(bed, home, Env("BACKUP_RUNS", 3));
    }
}
finally
{
    if (Directory.Exists(home.Path))
    {
        Directory.Delete(home.Path, recursive: true);
    }
}

async Task Discovery()
{
    // The exact paths Ceso asks for (InventoryMapper is internal: read by reflection so the peer cannot drift).
    var paths = (IReadOnlyList<string>)typeof(SoapInventory).Assembly.GetType("Ceso.Engine.Hosts.InventoryMapper")!
        .GetField("VmProperties", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!.GetValue(null)!;
    await using var session = await new SessionFactory(home).ConnectAsync(new ConnectionProfile
    {
        Server = S("soapHost"),
        SoapPort = bed.GetProperty("soapPort").GetInt32(),
        SoapUser = S("username"),
        SoapPassword = S("password"),
        Thumbprint = S("thumbprintSha256"),
        Transport = Transport.Soap,
    });
    var soap = session.Soap!;
    var inventory = session.Inventory;

    var psi = new ProcessStartInfo(govmomiExe ?? throw new ArgumentException("the discovery benchmark needs GOVMOMI-DISCOVERY-EXE")) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
    foreach (var a in new[] { "-url", S("soapUrl"), "-user", S("username"), "-password", S("password"), "-thumbprint", S("thumbprintSha256"), "-props", string.Join(",", paths) })
    {
        psi.ArgumentList.Add(a);
    }

    using var peer = Process.Start(psi)!;
    var peerLoad = new List<double>();
    (double Ms, int Vms) Govmomi()
    {
        peer.StandardInput.WriteLine("run");
        peer.StandardInput.Flush();
        var parts = (peer.StandardOutput.ReadLine() ?? throw new InvalidOperationException("govmomi-discovery ended")).Split(' ');
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        peerLoad.Add(double.Parse(parts[2], inv));
        return (double.Parse(parts[0], inv), int.Parse(parts[1], inv));
    }

    // Warm-up: the first GetVmsAsync creates the container view; both sides JIT / warm their connections.
    IReadOnlyList<CesoVm> vms = [];
    for (var i = 0; i < 3; i++)
    {
        vms = await inventory.GetVmsAsync();
        Govmomi();
    }

    var ceso = new List<double>();
    var peerMs = new List<double>();
    var cesoTrips = new List<int>();
    var logTrips = new List<int>();
    int cesoVms = vms.Count, peerVms = 0;
    for (var r = 0; r < runs; r++)
    {
        if (r % 2 == 1)
        {
            (var ms, peerVms) = Govmomi();
            peerMs.Add(ms);
        }

        // The test bed logs a call just after it has sent the answer: let the previous call's line land first.
        await Task.Delay(50);
        var before = soap.Calls.Values.Sum();
        var logMark = new FileInfo(S("callLog")).Length;
        var sw = Stopwatch.StartNew();
        vms = await inventory.GetVmsAsync();
        ceso.Add(sw.Elapsed.TotalMilliseconds);
        cesoVms = vms.Count;
        cesoTrips.Add(soap.Calls.Values.Sum() - before);
        await Task.Delay(50);
        logTrips.Add(SoapLinesSince(logMark));
        if (r % 2 == 0)
        {
            (var ms, peerVms) = Govmomi();
            peerMs.Add(ms);
        }
    }

    peerLoad.RemoveRange(0, 3); // warm-up
    peer.StandardInput.Close();
    peer.WaitForExit();

    Console.WriteLine($"== discovery: {cesoVms} VMs, {paths.Count} property paths, {runs} alternating rounds (after 3 warm-up rounds)");
    Console.WriteLine($"ceso    GetVmsAsync              median {Median(ceso),8:0.0} ms  (min {ceso.Min():0.0}, max {ceso.Max():0.0})  VMs {cesoVms}");
    Console.WriteLine($"govmomi RetrievePropertiesEx+mo  median {Median(peerMs),8:0.0} ms  (min {peerMs.Min():0.0}, max {peerMs.Max():0.0})  VMs {peerVms}");
    Console.WriteLine($"        of which mo.LoadObjectContent median {Median(peerLoad),8:0.0} ms (the rest: HTTP + encoding/xml decode into vim25 types)");
    Console.WriteLine($"ratio ceso/govmomi {Median(ceso) / Median(peerMs):0.00}  (goal <= 1.2)");
    Console.WriteLine($"SOAP round trips per Ceso discovery: VimClient.Calls {Median(cesoTrips)} (each run: {string.Join(",", cesoTrips.Distinct())}); " +
        $"test bed call log (soap, non-internal) {Median(logTrips)} (each run: {string.Join(",", logTrips.Distinct())})");
    if (cesoVms != peerVms)
    {
        Console.WriteLine($"WARNING: Ceso returned {cesoVms} VMs, govmomi {peerVms}");
    }

    await Breakdown(soap, session.ServiceContent!, paths);
}

// Where Ceso's discovery time goes: the same RetrievePropertiesEx (1) as raw HTTP bytes, (2) those bytes read by
// RetrieveResultReader (one streaming pass into VmodlNode, what GetVmsAsync does), (3) InventoryMapper + sort,
// (4) the full GetVmsAsync.
async Task Breakdown(VimClient soap, ServiceContent sc, IReadOnlyList<string> paths)
{
    XNamespace vim = "urn:vim25", xsi = "http://www.w3.org/2001/XMLSchema-instance", env = "http://schemas.xmlsoap.org/soap/envelope/";
    var view = await soap.CreateContainerViewAsync(sc.ViewManager, sc.RootFolder, ["VirtualMachine", "Datastore", "HostSystem"]);
    var spec = new XElement(vim + "specSet",
        new XElement(vim + "propSet", new XElement(vim + "type", "VirtualMachine"), paths.Select(p => new XElement(vim + "pathSet", p))),
        new XElement(vim + "objectSet", new XElement(vim + "obj", new XAttribute("type", view.Type), view.Value), new XElement(vim + "skip", "true"),
            new XElement(vim + "selectSet", new XAttribute(xsi + "type", "TraversalSpec"), new XElement(vim + "name", "view"),
                new XElement(vim + "type", "ContainerView"), new XElement(vim + "path", "view"), new XElement(vim + "skip", "false"))));
    var envelope = new XElement(env + "Envelope", new XAttribute(XNamespace.Xmlns + "soapenv", env), new XAttribute(XNamespace.Xmlns + "xsi", xsi),
        new XElement(env + "Body", new XElement(vim + "RetrievePropertiesEx",
            new XElement(vim + "_this", new XAttribute("type", sc.PropertyCollector.Type), sc.PropertyCollector.Value), spec, new XElement(vim + "options"))))
        .ToString(SaveOptions.DisableFormatting);
    using var http = new HttpClient(new HttpClientHandler
    {
        CookieContainer = soap.Cookies,
        ServerCertificateCustomValidationCallback = (_, _, _, _) => true, // loopback, same server just verified by Ceso's pin
        AutomaticDecompression = System.Net.DecompressionMethods.GZip | System.Net.DecompressionMethods.Deflate, // as VimClient
    });
    var rawMs = new List<double>();
    var fullMs = new List<double>();
    var bytes = 0;
    var encoding = "identity";
    var inv = new SoapInventory(S("soapHost"), soap, sc); // its own view, made by the first (warm-up) call
    var asm = typeof(VimClient).Assembly;
    const BindingFlags Any = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
    var read = asm.GetType("Ceso.Engine.Soap.RetrieveResultReader")!.GetMethod("Read", Any)!
        .CreateDelegate<Func<byte[], (List<ObjectContent> Objects, string? Token)>>();
    var map = asm.GetType("Ceso.Engine.Hosts.InventoryMapper")!.GetMethod("Vm", Any)!.CreateDelegate<Func<string, string, Func<string, VmodlNode?>, CesoVm>>();
    var convMs = new List<double>();
    var mapMs = new List<double>();
    for (var r = 0; r < runs + 2; r++)
    {
        var sw = Stopwatch.StartNew();
        using var req = new HttpRequestMessage(HttpMethod.Post, soap.SdkUrl) { Content = new StringContent(envelope, Encoding.UTF8, "text/xml") };
        req.Headers.TryAddWithoutValidation("SOAPAction", "urn:vim25/" + sc.ApiVersion);
        using var resp = await http.SendAsync(req);
        var payload = await resp.Content.ReadAsByteArrayAsync();
        bytes = payload.Length;
        encoding = resp.Content.Headers.ContentEncoding.FirstOrDefault() ?? "identity";
        var raw = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        var objects = read(payload).Objects;
        var conv = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        _ = objects.Select(o => map("bench", o.Obj.Value, p => o.Properties.GetValueOrDefault(p))).OrderBy(v => v.Name, StringComparer.Ordinal).ToList();
        var mapped = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        await inv.GetVmsAsync();
        var full = sw.Elapsed.TotalMilliseconds;
        if (r >= 2)
        {
            rawMs.Add(raw);
            fullMs.Add(full);
            convMs.Add(conv);
            mapMs.Add(mapped);
        }
    }

    Console.WriteLine($"where Ceso's time goes (medians of {runs}; response {bytes / 1024.0 / 1024:0.00} MiB of XML, content-encoding {encoding}):");
    Console.WriteLine($"  HTTP round trip, raw bytes only        {Median(rawMs),8:0.0} ms");
    Console.WriteLine($"  RetrieveResultReader (XML -> VmodlNode) {Median(convMs),7:0.0} ms");
    Console.WriteLine($"  InventoryMapper.Vm + sort by name      {Median(mapMs),8:0.0} ms");
    Console.WriteLine($"  GetVmsAsync end to end                 {Median(fullMs),8:0.0} ms");
}

async Task Ssh()
{
    var target = new SshTarget
    {
        Host = S("sshHost"),
        Port = bed.GetProperty("sshPort").GetInt32(),
        User = S("sshUser"),
        IdentityFile = S("sshKey"),
        KnownHostsFile = S("knownHosts"),
        ConfigFile = "none",
    };
    await using var ssh = new SshSession(target);
    // The first VM of the table (Vmid is the first column; vcsim's morefs look like vm-9).
    var table = (await ssh.RunAsync("vim-cmd vmsvc/getallvms")).EnsureSuccess(target.Host).Stdout;
    var vmId = table.Split('\n')[1].Split(' ', 2)[0];
    var getstate = $"vim-cmd vmsvc/power.getstate {vmId}";
    for (var i = 0; i < 5; i++)
    {
        (await ssh.RunAsync(getstate)).EnsureSuccess(target.Host);
    }

    var reuseNop = new List<double>();
    var reuseCmd = new List<double>();
    var freshNop = new List<double>();
    var freshCmd = new List<double>();
    var every = Math.Max(1, sshRuns / freshRuns);
    for (var r = 0; r < sshRuns; r++)
    {
        reuseNop.Add(await Time(() => ssh.RunAsync(":")));
        reuseCmd.Add(await Time(() => ssh.RunAsync(getstate)));
        if (r % every == 0 && freshCmd.Count < freshRuns)
        {
            freshCmd.Add(await Time(() => ssh.RunDetachedAsync(getstate)));
            freshNop.Add(await Time(() => ssh.RunDetachedAsync(":")));
        }
    }

    Console.WriteLine();
    Console.WriteLine($"== ssh: '{getstate}' ({sshRuns} runs on the persistent shell, {freshCmd.Count} on fresh ssh processes, interleaved; {ssh.ConnectionsOpened} persistent connection(s))");
    Console.WriteLine($"persistent shell  ':'                  median {Median(reuseNop),9:0.00} ms   (framing overhead)");
    Console.WriteLine($"persistent shell  vim-cmd getstate     median {Median(reuseCmd),9:0.00} ms");
    Console.WriteLine($"fresh ssh         ':'                  median {Median(freshNop),9:0.00} ms   (connection + handshake + auth)");
    Console.WriteLine($"fresh ssh         vim-cmd getstate     median {Median(freshCmd),9:0.00} ms");
    var tool = Median(reuseCmd) - Median(reuseNop);
    Console.WriteLine($"vim-cmd itself (getstate - ':', persistent shell) {tool:0.00} ms = {100 * tool / Median(reuseCmd):0}% of a persistent call, {100 * tool / Median(freshCmd):0.0}% of a fresh call");
    Console.WriteLine($"ratio fresh/reuse, vim-cmd getstate {Median(freshCmd) / Median(reuseCmd):0}x   (goal >= 100x)");
    Console.WriteLine($"ratio fresh/reuse, ':' (transport only) {Median(freshNop) / Median(reuseNop):0}x");
}

// Engine overhead of New-CesoVm and Copy-CesoVm: wall time of plan + execute minus the time the engine waited for the
// host (VimClient.HostWait + SshSession.HostWait: from sending a request to its last response byte). One SOAP-only and
// one SSH-only session; the four modes (soap/ssh x create/clone) alternate in every round; every VM is removed after
// its measurement (not timed), so each run starts from the same 4-VM host.
async Task Lifecycle()
{
    // Any valid OpenSSH public key will do: cloud-init only gets it as data (generated for this benchmark, no private half kept).
    const string Key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF/6qNr45TunsesI235uKwiWv7mlVPMNEaloUJuTNMYA bench@ceso";
    const int WarmUp = 2;
    await using var soapSession = await new SessionFactory(home).ConnectAsync(new ConnectionProfile
    {
        Server = S("soapHost"),
        SoapPort = bed.GetProperty("soapPort").GetInt32(),
        SoapUser = S("username"),
        SoapPassword = S("password"),
        Thumbprint = S("thumbprintSha256"),
        Transport = Transport.Soap,
    });
    await using var sshSession = await new SessionFactory(home).ConnectAsync(SshProfile());
    var redactor = new Redactor();
    var executor = new PlanExecutor(AuditLog.Open(home, redactor), redactor, new AuditActor("bench", null));

    // Datastore HTTP (/folder GET and PUT: the .vmx read, the folder check, the .vmx write) goes through VimClient's
    // HttpClient but not through InvokeAsync, so VimClient.HostWait does not count it. .NET's own HTTP client metric
    // (request start until response headers; these bodies are a few KiB) measures it here, separately: every
    // non-POST request of this process is datastore HTTP (SOAP is POST only).
    long dsTicks = 0, dsRequests = 0;
    using var meters = new System.Diagnostics.Metrics.MeterListener();
    meters.InstrumentPublished = (instrument, listener) =>
    {
        if (instrument.Meter.Name == "System.Net.Http" && instrument.Name == "http.client.request.duration")
        {
            listener.EnableMeasurementEvents(instrument);
        }
    };
    meters.SetMeasurementEventCallback<double>((_, seconds, tags, _) =>
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "http.request.method" && tag.Value as string != "POST")
            {
                Interlocked.Add(ref dsTicks, (long)(seconds * TimeSpan.TicksPerSecond));
                Interlocked.Increment(ref dsRequests);
            }
        }
    });
    meters.Start();

    var modes = new (string Transport, CesoSession Session, bool Clone)[]
    {
        ("soap", soapSession, false), ("ssh", sshSession, false), ("soap", soapSession, true), ("ssh", sshSession, true),
    };
    var opsOf = new Dictionary<CesoSession, VmOperations> { [soapSession] = new(soapSession, home), [sshSession] = new(sshSession, home) };
    var samples = modes.Select(_ => new List<LifecycleSample>()).ToArray();
    var n = 0;
    for (var r = 0; r < WarmUp + lifecycleRuns; r++)
    {
        for (var m = 0; m < modes.Length; m++)
        {
            var (transport, session, clone) = modes[m];
            var ops = opsOf[session];
            n++;
            var name = $"bench-{n}";
            var guest = new Ceso.Engine.CloudInit.GuestInfoRequest { VmName = name, IPAddresses = [$"10.0.0.{n % 250 + 2}/24"], SshKeys = [Key] };
            TimeSpan Wait() => (session.Ssh?.HostWait ?? TimeSpan.Zero) + (session.Soap?.HostWait ?? TimeSpan.Zero);
            Dictionary<string, int> Calls() => session.Soap is { } c ? c.Calls.ToDictionary() : [];

            // The test bed logs a call just after it has answered it: let the last removal's lines land first.
            await Task.Delay(50);
            var logMark = new FileInfo(S("callLog")).Length;
            var calls0 = Calls();
            var ds0 = Interlocked.Read(ref dsTicks);
            var dsN0 = Interlocked.Read(ref dsRequests);
            var wait0 = Wait();
            var sw = Stopwatch.StartNew();
            var (plan, _) = clone
                ? await ops.PlanCloneAsync(new CloneVmRequest { Source = "vm02", Name = name, Guest = guest })
                : await ops.PlanCreateAsync(new CreateVmRequest { Name = name, Template = "vm01", Guest = guest });
            var planWall = sw.Elapsed;
            var wait1 = Wait();
            await executor.ExecuteAsync(plan);
            var wall = sw.Elapsed;
            var wait2 = Wait();
            var ds = TimeSpan.FromTicks(Interlocked.Read(ref dsTicks) - ds0);
            var dsN = (int)(Interlocked.Read(ref dsRequests) - dsN0);
            var calls1 = Calls();
            var delta = calls1.Select(kv => (kv.Key, N: kv.Value - calls0.GetValueOrDefault(kv.Key))).Where(c => c.N > 0).ToDictionary(c => c.Key, c => c.N);
            await Task.Delay(50);
            var log = CallLinesSince(logMark);

            var (removal, _) = await ops.PlanRemoveAsync(name, false);
            await executor.ExecuteAsync(removal);
            if (r >= WarmUp)
            {
                samples[m].Add(new LifecycleSample(wall.TotalMilliseconds, (wait2 - wait0).TotalMilliseconds,
                    (planWall - (wait1 - wait0)).TotalMilliseconds, (wall - planWall - (wait2 - wait1)).TotalMilliseconds,
                    ds.TotalMilliseconds, dsN, delta, log, plan.Steps.Count));
            }
        }
    }

    meters.Dispose();
    Console.WriteLine();
    Console.WriteLine($"== lifecycle: New-CesoVm (template vm01) and Copy-CesoVm (source vm02) on a {bed.GetProperty("vms").GetInt32()}-VM test bed, " +
        $"{lifecycleRuns} runs per transport and operation, all four interleaved, after {WarmUp} warm-up runs each; every VM removed after (not timed)");
    Console.WriteLine("overhead = wall time of plan + execute - host wait (VimClient.HostWait + SshSession.HostWait deltas); medians of the per-run values");
    for (var m = 0; m < modes.Length; m++)
    {
        var (transport, _, clone) = modes[m];
        var s = samples[m];
        var op = clone ? "Copy-CesoVm" : "New-CesoVm ";
        var over = s.Select(x => x.Wall - x.Wait).ToList();
        Console.WriteLine($"{transport,-4} {op}  wall {Median(s.Select(x => x.Wall)),7:0.0} ms  host wait {Median(s.Select(x => x.Wait)),7:0.0} ms  " +
            $"overhead {Median(over),6:0.0} ms (min {over.Min():0.0}, max {over.Max():0.0}; plan {Median(s.Select(x => x.PlanOver)):0.0} + execute {Median(s.Select(x => x.ExecOver)):0.0})  " +
            $"goal <= 1000 ms: {(Median(over) <= 1000 ? "met" : "MISSED")}");
        var steps = string.Join(",", s.Select(x => x.Steps).Distinct());
        if (transport == "soap")
        {
            var total = s.Select(x => x.Calls.Values.Sum()).ToList();
            var byMethod = s[0].Calls.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}");
            var soapLog = s.Select(x => x.Log.Soap).ToList();
            var httpLog = s.Select(x => x.Log.Http).ToList();
            Console.WriteLine($"     host calls: SOAP {Median(total)} by VimClient.Calls (each run: {string.Join(",", total.Distinct())}; {string.Join(", ", byMethod)}), " +
                $"{Median(s.Select(x => x.DsRequests))} datastore HTTP; test bed call log: soap {Median(soapLog)} (each run: {string.Join(",", soapLog.Distinct())}), " +
                $"http {Median(httpLog)}; plan steps {steps}");
            Console.WriteLine($"     of the host wait, datastore HTTP (.vmx read and upload, counted in VimClient.HostWait) median {Median(s.Select(x => x.DsHttp)):0.0} ms");
        }
        else
        {
            var trips = s.Select(x => x.Log.SshCommands).ToList();
            Console.WriteLine($"     host calls: SSH commands {Median(trips)} (test bed call log: commands framed on the persistent shell; each run: {string.Join(",", trips.Distinct())}), " +
                $"of which ESXi tool runs {Median(s.Select(x => x.Log.SshTools))}; plan steps {steps}");
        }
    }
}

async Task Reads()
{
    const string Key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF/6qNr45TunsesI235uKwiWv7mlVPMNEaloUJuTNMYA bench@ceso";
    var readsRuns = Env("READS_RUNS", 3);
    var cesobed = Environment.GetEnvironmentVariable("CESOBED") ?? throw new ArgumentException("CESOBED: the path of testbed/bin/cesobed");
    void Fault(string kv)
    {
        using var p = Process.Start(new ProcessStartInfo(cesobed, ["fault", "-state", S("stateDir"), kv]) { RedirectStandardOutput = true })!;
        p.WaitForExit();
    }

    Task<CesoSession> ConnectSsh() => new SessionFactory(home).ConnectAsync(SshProfile());
    var oneCall = typeof(SshInventory).GetProperty("OneCallPerCommand", BindingFlags.Instance | BindingFlags.NonPublic)!;
    var redactor = new Redactor();
    var executor = new PlanExecutor(AuditLog.Open(home, redactor), redactor, new AuditActor("bench", null));
    // before = one shell command per vim-cmd (the path before the batched reads), python = the helper, shell = the loop
    var modes = new[] { "before", "python", "shell" };
    var results = new Dictionary<(string Mode, string Op), List<(double Ms, int Commands, int Tools)>>();
    var n = 0;
    var delay = Environment.GetEnvironmentVariable("READS_DELAY_MS") ?? "150";
    for (var r = 0; r < readsRuns; r++)
    {
        foreach (var mode in modes)
        {
            Fault(mode == "shell" ? "python=off" : "python=on");
            Fault("delayMs=0");
            await using var session = await ConnectSsh();
            oneCall.SetValue(session.Inventory, mode == "before");
            await session.Inventory.GetVmsAsync(); // warm: the first batch learns whether python answers
            Fault("delayMs=" + delay);
            var ops = new VmOperations(session, home);
            async Task Measure(string op, Func<Task> body)
            {
                await Task.Delay(50);
                var mark = new FileInfo(S("callLog")).Length;
                var sw = Stopwatch.StartNew();
                await body();
                var ms = sw.Elapsed.TotalMilliseconds;
                await Task.Delay(50);
                var log = CallLinesSince(mark);
                (results.TryGetValue((mode, op), out var l) ? l : results[(mode, op)] = []).Add((ms, log.SshCommands, log.SshTools));
            }

            await Measure("discovery", () => session.Inventory.GetVmsAsync());
            var name = $"reads-{++n}";
            var guest = new Ceso.Engine.CloudInit.GuestInfoRequest { VmName = name, IPAddresses = [$"10.0.1.{n % 250 + 2}/24"], SshKeys = [Key] };
            await Measure("New-CesoVm", async () =>
            {
                var (plan, _) = await ops.PlanCreateAsync(new CreateVmRequest { Name = name, Template = "vm01", Guest = guest });
                await executor.ExecuteAsync(plan);
            });
            Fault("delayMs=0");
            var (removal, _) = await ops.PlanRemoveAsync(name, false);
            await executor.ExecuteAsync(removal);
        }
    }

    Fault("python=on");
    Console.WriteLine();
    Console.WriteLine($"== reads over SSH: {bed.GetProperty("vms").GetInt32()} VMs, test bed delayMs={delay} per ESXi tool run (a real host's vim-cmd), " +
        $"{readsRuns} rounds, modes interleaved; New-CesoVm = plan + execute (template vm01), removed after (not timed)");
    foreach (var op in new[] { "discovery", "New-CesoVm" })
    {
        foreach (var mode in modes)
        {
            var s = results[(mode, op)];
            Console.WriteLine($"{op,-10} {mode,-6}  wall median {Median(s.Select(x => x.Ms)),8:0} ms (min {s.Min(x => x.Ms):0}, max {s.Max(x => x.Ms):0})  " +
                $"shell commands {Median(s.Select(x => x.Commands))} (each run: {string.Join(",", s.Select(x => x.Commands).Distinct())})  " +
                $"ESXi tool runs {Median(s.Select(x => x.Tools))}");
        }
    }
}

// The test bed's SSH only (key auth, its known_hosts, no ~/.ssh/config).
ConnectionProfile SshProfile() => new()
{
    Server = S("sshHost"),
    SshPort = bed.GetProperty("sshPort").GetInt32(),
    SshUser = S("sshUser"),
    SshKeyPath = S("sshKey"),
    KnownHostsPath = S("knownHosts"),
    SshConfigFile = "none",
    Transport = Transport.Ssh,
};

static async Task<double> Time(Func<Task<SshResult>> f)
{
    var sw = Stopwatch.StartNew();
    var r = await f();
    var ms = sw.Elapsed.TotalMilliseconds;
    if (r.ExitCode != 0)
    {
        throw new InvalidOperationException($"'{r.CommandLine}' failed ({r.ExitCode}): {r.Stderr}");
    }

    return ms;
}

int SoapLinesSince(long offset) => CallLinesSince(offset).Soap;

// Lines of the test bed's call log after offset: non-internal soap methods, datastore http requests, ssh round trips
// (a command framed on the persistent shell, or a fresh ssh process's command) and ESXi tool runs (exec).
(int Soap, int Http, int SshCommands, int SshTools) CallLinesSince(long offset)
{
    using var fs = new FileStream(S("callLog"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
    fs.Seek(offset, SeekOrigin.Begin);
    using var reader = new StreamReader(fs);
    int soap = 0, http = 0, ssh = 0, tools = 0;
    while (reader.ReadLine() is { } line)
    {
        using var d = JsonDocument.Parse(line);
        var e = d.RootElement;
        if (e.TryGetProperty("internal", out var i) && i.GetBoolean())
        {
            continue;
        }

        switch (e.GetProperty("channel").GetString(), e.TryGetProperty("kind", out var k) ? k.GetString() : null)
        {
            case ("soap", _):
                soap++;
                break;
            case ("http", _):
                http++;
                break;
            // A persistent shell's command arrives as "( CMD" … ") </dev/null; __ceso_rc=$?; printf MARKER…": one closing
            // line per command, however many lines the command itself has (a .vmx written with printf has dozens).
            case ("ssh", "stdin") when e.GetProperty("name").GetString()!.Contains("__ceso_rc=$?", StringComparison.Ordinal):
            case ("ssh", "command"):
                ssh++;
                break;
            case ("ssh", "exec"):
                tools++;
                break;
        }
    }

    return (soap, http, ssh, tools);
}

static double Median<T>(IEnumerable<T> values) where T : IConvertible
{
    var s = values.Select(v => v.ToDouble(null)).Order().ToArray();
    return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
}

internal sealed record LifecycleSample(double Wall, double Wait, double PlanOver, double ExecOver, double DsHttp, int DsRequests,
    Dictionary<string, int> Calls, (int Soap, int Http, int SshCommands, int SshTools) Log, int Steps);
