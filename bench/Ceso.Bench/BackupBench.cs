// BENCH=backup: Ceso's Backup-CesoVm (cold, then incremental) and restore of a realistic 4 GiB VM disk vs restic and
// borg fed the same disk through `ssh … cat` (and, as an upper bound without the network, on the local image files).
// bench/run.sh starts a 2-VM test bed and calls the driver with CESOBED and BENCH_IMAGES set; PLAIN=1 turns the host's
// python off (test bed fault python=off) so Ceso reads the disk as a plain stream instead of through its host helper.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;
using Ceso.Engine.Security;

namespace Ceso.Bench;

internal sealed record StepSample(double WallS, long WireBytes, long PayloadBytes, long RepoBytes, long PeakRssBytes, string Note);

internal static partial class BackupBench
{
    internal const string Vm = "bench-bk";
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static async Task RunAsync(JsonElement bed, CesoHome home, int runs)
    {
        string S(string name) => bed.GetProperty(name).GetString()!;
        var cesobed = Environment.GetEnvironmentVariable("CESOBED") ?? throw new ArgumentException("CESOBED: the path of testbed/bin/cesobed");
        var images = Environment.GetEnvironmentVariable("BENCH_IMAGES") is { Length: > 0 } i ? i : "/var/tmp/ceso-bench";
        var plain = Environment.GetEnvironmentVariable("PLAIN") == "1";
        var v1 = Path.Combine(images, "disk-v1.img");
        var v2 = Path.Combine(images, "disk-v2.img");
        var ds = bed.GetProperty("datastores")[0];
        var localDir = ds.GetProperty("localDir").GetString()!;
        var work = Path.Combine(Environment.GetEnvironmentVariable("BENCH_WORK") ?? Path.GetTempPath(), "ceso-backup-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        var capacity = new FileInfo(v1).Length;

        void Fault(string kv) => Sh($"'{cesobed}' fault -state '{S("stateDir")}' {kv} >/dev/null");
        Fault(plain ? "python=off" : "python=on");

        Console.WriteLine();
        Console.WriteLine($"== backup: {Path.GetFileName(v1)} then {Path.GetFileName(v2)} ({Mib(capacity):0} MiB sparse ext4, {Mib(Allocated(v1)):0} / {Mib(Allocated(v2)):0} MiB allocated), " +
            $"{runs} rounds, tools rotated in each round; read path {(plain ? "plain-stream (test bed fault python=off)" : "host helper (python on)")}");
        var sw0 = Stopwatch.StartNew();
        var changed = Changed(v1, v2, 1 << 20);
        Console.WriteLine($"v1 -> v2 changed: {changed.Blocks} of {capacity >> 20} 1-MiB blocks differ ({Mib(changed.Blocks * (1L << 20)):0.0} MiB; " +
            $"{changed.NonZeroBlocks} of them non-zero in v2 = {Mib(changed.NonZeroBlocks * (1L << 20)):0.0} MiB to send), raw differing bytes {Mib(changed.Bytes):0.0} MiB  ({sw0.Elapsed.TotalSeconds:0.0} s to compute)");

        await using var session = await new SessionFactory(home).ConnectAsync(new ConnectionProfile
        {
            Server = S("sshHost"),
            SshPort = bed.GetProperty("sshPort").GetInt32(),
            SshUser = S("sshUser"),
            SshKeyPath = S("sshKey"),
            KnownHostsPath = S("knownHosts"),
            SshConfigFile = "none",
            Transport = Transport.Ssh,
        });
        var ops = new VmOperations(session, home);
        var redactor = new Redactor();
        var executor = new PlanExecutor(AuditLog.Open(home, redactor), redactor, new AuditActor("bench", null));

        var (flat, ssh) = await PrepareVmAsync(bed, ops, executor, capacity);
        void Put(string image) => Sh($"cp --sparse=always '{image}' '{flat}'");
        Environment.SetEnvironmentVariable("RESTIC_PASSWORD", "bench");
        Environment.SetEnvironmentVariable("BORG_PASSPHRASE", "bench");
        Environment.SetEnvironmentVariable("BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK", "yes");

        // tool -> step -> samples
        var results = new Dictionary<string, Dictionary<string, List<StepSample>>>();
        void Add(string tool, string step, StepSample s)
        {
            if (!results.TryGetValue(tool, out var byStep))
            {
                results[tool] = byStep = [];
            }

            (byStep.TryGetValue(step, out var l) ? l : byStep[step] = []).Add(s);
        }

        var readPaths = new HashSet<string>();
        var mismatches = new List<string>();
        // BACKUP_TOOLS: a subset, comma-separated (default all five).
        var all = new[] { "ceso", "restic", "borg", "restic-local", "borg-local" };
        var tools = Environment.GetEnvironmentVariable("BACKUP_TOOLS") is { Length: > 0 } only ? all.Where(only.Split(',').Contains).ToArray() : all;
        for (var r = 0; r < runs; r++)
        {
            for (var t = 0; t < tools.Length; t++)
            {
                var tool = tools[(t + r) % tools.Length];
                var repo = Path.Combine(work, $"{tool}-{r}");
                var outDir = Path.Combine(work, $"out-{tool}-{r}");
                Directory.CreateDirectory(outDir);
                Console.Error.WriteLine($"round {r + 1}/{runs}: {tool}...");
                switch (tool)
                {
                    case "ceso":
                    {
                        var opened = await BackupOperations.CreateRepositoryAsync(home, null, repo, "bench", null, null);
                        foreach (var (step, image) in new[] { ("backup-v1", v1), ("backup-v2", v2) })
                        {
                            Put(image);
                            ResetPeak();
                            string? detail = null;
                            var progress = new Inline<PlanProgress>(p => detail = p.StepDetail ?? detail);
                            var sw = Stopwatch.StartNew();
                            var (plan, run) = await BackupOperations.PlanBackupAsync(session, home, opened, new BackupVmRequest(Vm));
                            var result = await executor.ExecuteAsync(plan, progress);
                            var wall = sw.Elapsed.TotalSeconds;
                            var peak = Peak();
                            if (run.Snapshot is null)
                            {
                                throw new InvalidOperationException($"ceso {step}: no snapshot ({result})");
                            }

                            var path = run.ReadPaths.Values.FirstOrDefault() ?? "?";
                            readPaths.Add(path);
                            Add(tool, step, new StepSample(wall, WireOf(detail), run.Statistics!.BytesReceived, Du(repo), peak, path.Split(' ')[0]));
                        }

                        await RestoreCesoAsync(session, home, ops, executor, opened, repo, localDir, v2, r, mismatches, Add);
                        break;
                    }

                    case "restic" or "borg" or "restic-local" or "borg-local":
                    {
                        var local = tool.EndsWith("-local", StringComparison.Ordinal);
                        var name = tool.Split('-')[0];
                        Sh(name == "restic"
                            ? $"restic init -q -r '{repo}' --repository-version 2 >/dev/null"
                            : $"borg init -e repokey '{repo}' >/dev/null 2>&1");
                        foreach (var (step, image, v) in new[] { ("backup-v1", v1, "v1"), ("backup-v2", v2, "v2") })
                        {
                            // Through ssh: the flat file as `cat` on the host sends it, counted by pv. Local: the image file
                            // on stdin (the same stream without the network; stdin so that both name the file disk.img).
                            var source = local ? $"< '{image}'" : "";
                            if (!local)
                            {
                                Put(image);
                            }

                            var command = (local ? "" : $"{ssh} | pv -n -b 2>'{work}/.bytes' | ") + (name == "restic"
                                ? $"{Time} restic -q -r '{repo}' backup --compression auto --stdin --stdin-filename disk.img {source}"
                                : $"{Time} borg create -C zstd,3 --stdin-name disk.img '{repo}::{v}' - {source}");
                            var (wall, rss) = Timed(command, work);
                            var wire = local ? 0 : LastNumber(Path.Combine(work, ".bytes"));
                            Add(tool, step, new StepSample(wall, wire, wire, Du(repo), rss, ""));
                        }

                        // Restore v2 as a stream (restic dump / borg extract --stdout) written sparse by cp, as Ceso writes a
                        // thin disk (restic 0.14 has no restore --sparse); then cmp (not timed).
                        var restore = (name == "restic"
                            ? $"{Time} restic -q -r '{repo}' dump latest disk.img"
                            : $"{Time} borg extract --stdout '{repo}::v2'") + $" | cp --sparse=always /dev/stdin '{outDir}/disk.img'";
                        var (rw, rrss) = Timed(restore, work);
                        var restored = Directory.EnumerateFiles(outDir, "*.img", SearchOption.AllDirectories).FirstOrDefault();
                        var same = restored is not null && Sh($"cmp -s '{v2}' '{restored}'", check: false) == 0;
                        if (!same)
                        {
                            mismatches.Add($"{tool} round {r + 1}: restored v2 {(restored is null ? "missing" : "differs")}");
                        }

                        Add(tool, "restore-v2", new StepSample(rw, 0, 0, Du(repo), rrss, same ? "identical" : "DIFFERS"));
                        break;
                    }
                }

                Directory.Delete(outDir, true);
                Directory.Delete(repo, true);
            }
        }

        Fault("python=on");
        Print(results, changed, readPaths, mismatches, plain);
        if (tools.Contains("ceso"))
        {
            await BreakdownAsync(session, ssh, flat, v1, work);
        }

        Directory.Delete(work, true);
    }

    // The VM: a clone of vm01 whose descriptor says CAPACITY bytes and whose flat file is the bench image (copied sparse
    // before each backup). Returns the flat file's local path and `ssh … cat` of it as the host serves it (the peers' read).
    internal static async Task<(string Flat, string SshCat)> PrepareVmAsync(JsonElement bed, VmOperations ops, PlanExecutor executor, long capacity)
    {
        string S(string name) => bed.GetProperty(name).GetString()!;
        var ds = bed.GetProperty("datastores")[0];
        var localDir = ds.GetProperty("localDir").GetString()!;
        var vmfs = ds.GetProperty("vmfsPath").GetString()!;
        if (await ops.RefreshAsync(Vm) is null)
        {
            await executor.ExecuteAsync((await ops.PlanCloneAsync(new CloneVmRequest { Source = "vm01", Name = Vm })).Plan);
        }

        var vmDir = Path.Combine(localDir, Vm);
        var descriptor = Path.Combine(vmDir, Vm + ".vmdk");
        var flat = Path.Combine(vmDir, Vm + "-flat.vmdk");
        File.WriteAllText(descriptor, ExtentLine().Replace(File.ReadAllText(descriptor), m => $"RW {capacity / 512} {m.Groups[1].Value}"));
        var ssh = $"ssh -F /dev/null -i '{S("sshKey")}' -p {bed.GetProperty("sshPort").GetInt32()} -o UserKnownHostsFile='{S("knownHosts")}' " +
            $"-o GlobalKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR {S("sshUser")}@{S("sshHost")} cat {vmfs}/{Vm}/{Vm}-flat.vmdk";
        return (flat, ssh);
    }

    internal const string Time = "/usr/bin/time -o \"$TIMEFILE\" -f '%e %M'";

    private static void Print(Dictionary<string, Dictionary<string, List<StepSample>>> results, (long Blocks, long NonZeroBlocks, long Bytes) changed,
        HashSet<string> readPaths, List<string> mismatches, bool plain)
    {
        Console.WriteLine($"Ceso read path: {string.Join("; ", readPaths)}");
        Console.WriteLine("medians (min-max wall) per tool and step; wire = bytes the host sent (Ceso: DiskIoProgress.WireBytes, frames included, as its progress shows it; " +
            "peers: what `cat` sent, counted by pv); payload = Ceso's BackupStatistics.BytesReceived (block data only); repo = du -sb after the step; rss = peak RSS of the tool");
        foreach (var (tool, bySteps) in results)
        {
            foreach (var (step, s) in bySteps)
            {
                var wall = s.Select(x => x.WallS).ToList();
                var wire = tool.EndsWith("-local", StringComparison.Ordinal) || (step.StartsWith("restore", StringComparison.Ordinal) && tool != "ceso") ? "       -" : $"{Mib(Median(s.Select(x => (double)x.WireBytes))),8:0.0}";
                var payload = tool == "ceso" && !step.StartsWith("restore", StringComparison.Ordinal) ? $"  payload {Mib(Median(s.Select(x => (double)x.PayloadBytes))),7:0.0} MiB" : "";
                var note = string.Join(",", s.Select(x => x.Note).Where(n => n.Length > 0).Distinct());
                Console.WriteLine($"{tool,-12} {step,-10} wall {Median(wall),7:0.00} s ({wall.Min():0.00}-{wall.Max():0.00})  wire {wire} MiB{payload}  " +
                    $"repo {Mib(Median(s.Select(x => (double)x.RepoBytes))),7:0.0} MiB  rss {Mib(Median(s.Select(x => (double)x.PeakRssBytes))),6:0} MiB{(note.Length > 0 ? "  " + note : "")}");
            }
        }

        double M(string tool, string step, Func<StepSample, double> f) =>
            results.TryGetValue(tool, out var b) && b.TryGetValue(step, out var s) ? Median(s.Select(f)) : double.NaN;
        string Verdict(bool ok) => ok ? "PASS" : "MISS";
        Console.WriteLine($"goals ({(plain ? "plain-stream" : "host helper")}; peers = restic and borg through ssh cat, the same path to the disk):");
        foreach (var (step, label) in new[] { ("backup-v1", "backup (cold, v1)"), ("backup-v2", "incremental (v2)"), ("restore-v2", "restore (v2)") })
        {
            var ceso = M("ceso", step, x => x.WallS);
            var restic = M("restic", step, x => x.WallS);
            var borg = M("borg", step, x => x.WallS);
            var faster = Math.Min(restic, borg);
            var local = Math.Min(M("restic-local", step, x => x.WallS), M("borg-local", step, x => x.WallS));
            if (double.IsNaN(ceso))
            {
                Console.WriteLine($"  {label,-18} not measured (ceso has no {step} samples{(step.StartsWith("restore", StringComparison.Ordinal) ? ": BackupOperations.PlanRestoreAsync is not in this engine yet" : "")}; " +
                    $"peers: {(restic <= borg ? "restic" : "borg")} {faster:0.00} s, faster local peer {local:0.00} s)");
                continue;
            }

            Console.WriteLine($"  {label,-18} wall ceso/faster peer {ceso / faster:0.00} ({ceso:0.00} s vs {(restic <= borg ? "restic" : "borg")} {faster:0.00} s; " +
                $"faster local peer {local:0.00} s, ceso/local {ceso / local:0.00})  goal <= 0.5: {Verdict(ceso / faster <= 0.5)}");
        }

        var cesoRepo = M("ceso", "backup-v2", x => x.RepoBytes);
        var borgRepo = M("borg", "backup-v2", x => x.RepoBytes);
        Console.WriteLine($"  repository after v2 ceso/borg {cesoRepo / borgRepo:0.00} ({Mib(cesoRepo):0.0} vs {Mib(borgRepo):0.0} MiB; restic {Mib(M("restic", "backup-v2", x => x.RepoBytes)):0.0} MiB)  goal <= 1.0: {Verdict(cesoRepo <= borgRepo)}");
        var incWire = M("ceso", "backup-v2", x => x.WireBytes);
        var toSend = changed.NonZeroBlocks * (1L << 20);
        Console.WriteLine($"  incremental wire / changed 1-MiB blocks {incWire / toSend:0.00} ({Mib(incWire):0.0} MiB sent vs {Mib(toSend):0.0} MiB of changed non-zero blocks; " +
            $"vs raw differing bytes {incWire / changed.Bytes:0.00}x; payload {Mib(M("ceso", "backup-v2", x => x.PayloadBytes)):0.0} MiB)  goal <= 1.5: {Verdict(incWire <= 1.5 * toSend)}");
        var cesoRestores = results.TryGetValue("ceso", out var c) && c.TryGetValue("restore-v2", out var rs) ? rs : [];
        var identical = cesoRestores.Where(x => x.Note.StartsWith("identical", StringComparison.Ordinal)).ToList();
        Console.WriteLine($"  restore byte-identical: ceso {(cesoRestores.Count == 0 ? "not measured" : $"{identical.Count}/{cesoRestores.Count}")}; " +
            string.Join("; ", mismatches.DefaultIfEmpty("every peer restore identical")) + (cesoRestores.Count == 0 ? "" : $"  {Verdict(identical.Count == cesoRestores.Count)}"));
    }

    // Restore-CesoVm -AsNew of the newest backup (v2) as a new VM (timed: plan + execute), then its flat file is
    // compared with disk-v2.img by cmp and the VM removed (neither timed).
    private static async Task RestoreCesoAsync(CesoSession session, CesoHome home, VmOperations ops, PlanExecutor executor, OpenedRepository repo, string repoDir,
        string localDir, string v2, int round, List<string> mismatches, Action<string, string, StepSample> add)
    {
        var snapshots = await repo.Repository.ListSnapshotsAsync();
        var latest = snapshots.OrderBy(x => x.Time).Last();
        var name = $"{Vm}-r{round}";
        string? detail = null;
        if (Environment.GetEnvironmentVariable("BENCH_STEPS") == "1")
        {
            // The repository side alone: every block read, opened, decompressed and verified, nothing sent.
            var decode = Stopwatch.StartNew();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            long bytes = 0;
            await foreach (var b in repo.Repository.ReadDiskAsync((await repo.Repository.LoadSnapshotAsync(latest.Id)).Disks[0]))
            {
                bytes += b.Data!.Value.Length;
            }

            Console.Error.WriteLine($"repository read of v2 alone: {decode.Elapsed.TotalSeconds:0.00} s wall, {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:0.00} s CPU, {bytes >> 20} MiB");
        }

        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        // BENCH_STEPS=1: where the restore's time goes, step by step (planning first).
        var laps = new List<string>();
        var (lastStep, lastAt) = (-1, TimeSpan.Zero);
        var progress = new Inline<PlanProgress>(p =>
        {
            detail = p.StepDetail ?? detail;
            if (p.Step != lastStep)
            {
                laps.Add($"{(lastStep < 0 ? "plan" : "step " + lastStep)} {(sw.Elapsed - lastAt).TotalSeconds:0.00} s");
                (lastStep, lastAt) = (p.Step, sw.Elapsed);
                laps[^1] += $" | {p.Step}: {p.Title}";
            }
        });
        ResetPeak();
        var (plan, _) = await BackupOperations.PlanRestoreAsync(session, home, repo, new RestoreVmRequest(latest.Id, name));
        await executor.ExecuteAsync(plan, progress);
        var wall = sw.Elapsed.TotalSeconds;
        if (Environment.GetEnvironmentVariable("BENCH_STEPS") == "1")
        {
            laps.Add($"step {lastStep} {(sw.Elapsed - lastAt).TotalSeconds:0.00} s (end); Ceso CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds:0.00} s");
            Console.Error.WriteLine("restore steps: " + string.Join("\n  ", laps));
        }
        var peak = Peak();
        var m = Regex.Match(detail ?? "", @"written, ([\d.]+ (?:B|KiB|MiB|GiB)) of about .* sent \(([^)]*)\)");
        var wire = m.Success ? WireOf(m.Groups[1].Value + " sent") : -1;
        var flat = Directory.EnumerateFiles(Path.Combine(localDir, name), "*-flat.vmdk").FirstOrDefault();
        var same = flat is not null && Sh($"cmp -s '{v2}' '{flat}'", check: false) == 0;
        if (!same)
        {
            mismatches.Add($"ceso round {round + 1}: restored v2 {(flat is null ? "missing" : "differs")}");
        }

        var allocated = flat is null ? 0 : Allocated(flat);
        add("ceso", "restore-v2", new StepSample(wall, wire, 0, Du(repoDir), peak,
            $"{(same ? "identical" : "DIFFERS")} (writer {(m.Success ? m.Groups[2].Value : "?")}, flat {Mib(allocated):0} MiB allocated)"));
        await executor.ExecuteAsync((await ops.PlanRemoveAsync(name, keepFiles: false)).Plan);
    }

    internal sealed class Inline<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    // Where the time of a plain-stream backup goes, measured apart (v1 on the VM's flat, once each): the ssh pipe alone
    // (`ssh … cat > /dev/null`), Ceso's own read of the same stream (IHostFiles.OpenReadAsync read to the end in 1 MiB
    // reads: its ssh process, copies and pipe, no blocks), and the local work per block: the zero check of every block
    // and SHA-256 of the non-zero ones.
    private static async Task BreakdownAsync(CesoSession session, string ssh, string flat, string v1, string work)
    {
        Sh($"cp --sparse=always '{v1}' '{flat}'");
        var sw = Stopwatch.StartNew();
        Sh($"{ssh} > /dev/null");
        var pipe = sw.Elapsed.TotalSeconds;
        var path = Ceso.Engine.Formats.DatastorePath.Parse($"[datastore1] {Vm}/{Vm}-flat.vmdk");
        var buffer = new byte[1 << 20];
        long total = 0;
        sw.Restart();
        await using (var stream = await session.Files.OpenReadAsync(path))
        {
            int n;
            while ((n = await stream.ReadAtLeastAsync(buffer, buffer.Length, false)) > 0)
            {
                total += n;
            }
        }

        var read = sw.Elapsed.TotalSeconds;
        long zero = 0, nonZero = 0;
        double zeroS = 0, hashS = 0;
        using (var f = new FileStream(v1, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
        {
            int n;
            while ((n = f.ReadAtLeast(buffer, buffer.Length, false)) > 0)
            {
                sw.Restart();
                var isZero = !buffer.AsSpan(0, n).ContainsAnyExcept((byte)0);
                zeroS += sw.Elapsed.TotalSeconds;
                if (isZero)
                {
                    zero++;
                    continue;
                }

                nonZero++;
                sw.Restart();
                _ = Ceso.Engine.Backup.BlockHash.Of(buffer.AsSpan(0, n));
                hashS += sw.Elapsed.TotalSeconds;
            }
        }

        Console.WriteLine($"where a plain-stream read's time goes (v1, once each): ssh cat > /dev/null {pipe:0.00} s ({Mib(total) / pipe:0} MiB/s); " +
            $"Ceso's IHostFiles.OpenReadAsync read to the end {read:0.00} s ({Mib(total) / read:0} MiB/s, {Mib(total):0} MiB); " +
            $"zero check of {zero + nonZero} blocks {zeroS:0.00} s; SHA-256 of {nonZero} non-zero blocks {hashS:0.00} s");
    }

    [GeneratedRegex(@"RW \d+ (VMFS ""[^""]+"")")]
    private static partial Regex ExtentLine();

    // "1.2 GiB of 4 GiB read, 312.4 MiB sent, …": the last progress text of the disk step (FormatBytes: 0.1 MiB / 0.01 GiB).
    private static long WireOf(string? detail)
    {
        var m = Regex.Match(detail ?? "", @"([\d.]+) (B|KiB|MiB|GiB) sent");
        if (!m.Success)
        {
            return -1;
        }

        var unit = m.Groups[2].Value switch { "GiB" => 1L << 30, "MiB" => 1L << 20, "KiB" => 1L << 10, _ => 1L };
        return (long)(double.Parse(m.Groups[1].Value, Inv) * unit);
    }

    // Blocks of blockSize that differ between a and b, how many of those are non-zero in b, and the differing bytes.
    private static (long Blocks, long NonZeroBlocks, long Bytes) Changed(string a, string b, int blockSize)
    {
        using var fa = new FileStream(a, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        using var fb = new FileStream(b, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var ba = new byte[blockSize];
        var bb = new byte[blockSize];
        long blocks = 0, nonZero = 0, bytes = 0;
        while (true)
        {
            var na = fa.ReadAtLeast(ba, blockSize, false);
            var nb = fb.ReadAtLeast(bb, blockSize, false);
            if (na == 0 && nb == 0)
            {
                break;
            }

            if (!ba.AsSpan(0, na).SequenceEqual(bb.AsSpan(0, nb)))
            {
                blocks++;
                if (bb.AsSpan(0, nb).ContainsAnyExcept((byte)0))
                {
                    nonZero++;
                }

                for (var i = 0; i < Math.Min(na, nb); i++)
                {
                    bytes += ba[i] != bb[i] ? 1 : 0;
                }

                bytes += Math.Abs(na - nb);
            }
        }

        return (blocks, nonZero, bytes);
    }

    internal static long Allocated(string path) => long.Parse(ShOut($"du -B1 '{path}' | cut -f1").Trim(), Inv);

    internal static long Du(string dir) => Directory.Exists(dir) ? long.Parse(ShOut($"du -sb '{dir}' | cut -f1").Trim(), Inv) : 0;

    // Linux: writing 5 to clear_refs resets the peak RSS (VmHWM) of this process, so each step's peak is its own.
    private static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    private static long Peak() =>
        long.Parse(File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], Inv) * 1024;

    // Runs a bash command line with TIMEFILE set; returns the driver-measured wall time and /usr/bin/time's %M.
    internal static (double WallS, long RssBytes) Timed(string command, string work)
    {
        var timeFile = Path.Combine(work, ".time");
        File.Delete(timeFile);
        var sw = Stopwatch.StartNew();
        Sh(command, env: ("TIMEFILE", timeFile));
        var wall = sw.Elapsed.TotalSeconds;
        var parts = File.ReadLines(timeFile).Last().Split(' ');
        return (wall, long.Parse(parts[1], Inv) * 1024);
    }

    private static long LastNumber(string file) =>
        File.ReadLines(file).Select(l => l.Trim()).Where(l => l.Length > 0).Select(l => long.Parse(l, Inv)).LastOrDefault();

    internal static int Sh(string command, bool check = true, (string, string)? env = null)
    {
        var psi = new ProcessStartInfo("/bin/bash", ["-o", "pipefail", "-c", command]) { UseShellExecute = false };
        if (env is { } e)
        {
            psi.Environment[e.Item1] = e.Item2;
        }

        using var p = Process.Start(psi)!;
        p.WaitForExit();
        if (check && p.ExitCode != 0)
        {
            throw new InvalidOperationException($"exit {p.ExitCode}: {command}");
        }

        return p.ExitCode;
    }

    internal static string ShOut(string command)
    {
        using var p = Process.Start(new ProcessStartInfo("/bin/bash", ["-c", command]) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var s = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return s;
    }

    internal static double Mib(double bytes) => bytes / 1048576.0;

    internal static double Median(IEnumerable<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
