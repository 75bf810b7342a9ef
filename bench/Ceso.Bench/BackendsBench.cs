// BENCH=backends: Backup-CesoVm of the bench disk v1 then v2, and restore of v2, into each repository backend
// (directory, SFTP to the test bed's own sshd and datastore, S3 on Swift's s3api), against restic's local, SFTP and S3
// backends on the same servers in the same run. Wall time, bytes sent, requests and repository size per step.
// Ceso's backend is RepositoryBackends.Open's (SFTP: the same RetryingBackend(SftpBackend) with the counting ssh)
// wrapped in CountingBackend; the wire counts come from BackendsWire.cs for both tools alike.
using System.Diagnostics;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Ceso.Engine.Backup;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;
using Ceso.Engine.Planning;
using Ceso.Engine.Security;
using Ceso.Engine.Ssh;

namespace Ceso.Bench;

/// <summary>One step of one tool into one backend.</summary>
internal sealed record BackendSample(double WallS, WireCounts Wire, BackendCounts? Calls, long RepoBytes, long Growth, string Note);

internal static class BackendsBench
{
    private const string Password = "bench";

    public static async Task RunAsync(JsonElement bed, CesoHome home, int runs)
    {
        string S(string name) => bed.GetProperty(name).GetString()!;
        var images = Environment.GetEnvironmentVariable("BENCH_IMAGES") is { Length: > 0 } i ? i : "/var/tmp/ceso-bench";
        var v1 = Path.Combine(images, "disk-v1.img");
        var v2 = Path.Combine(images, "disk-v2.img");
        var swiftFile = Environment.GetEnvironmentVariable("SWIFT_JSON") ?? throw new ArgumentException("SWIFT_JSON: the file with testbed/swift-s3/start.sh's JSON line");
        var swift = JsonDocument.Parse(File.ReadAllText(swiftFile)).RootElement;
        var endpoint = new Uri(swift.GetProperty("endpoint").GetString()!);
        var credentials = new RepositoryCredentials(swift.GetProperty("access_key").GetString()!, swift.GetProperty("secret_key").GetString()!);
        var ds = bed.GetProperty("datastores")[0];
        var localDir = ds.GetProperty("localDir").GetString()!;
        var vmfs = ds.GetProperty("vmfsPath").GetString()!;
        var work = Path.Combine(Environment.GetEnvironmentVariable("BENCH_WORK") ?? Path.GetTempPath(), "ceso-backends-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        var capacity = new FileInfo(v1).Length;

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
        var (flat, sshCat) = await BackupBench.PrepareVmAsync(bed, ops, executor, capacity);
        void Put(string image) => BackupBench.Sh($"cp --sparse=always '{image}' '{flat}'");

        var sftp = new SftpCounter(work);
        var cert = Path.Combine(work, "proxy-cert.pem");
        await using var proxy = new CountingHttpProxy(endpoint.Port, cert);
        using var s3 = new AmazonS3Client(new BasicAWSCredentials(credentials.AccessKey, credentials.SecretKey),
            new AmazonS3Config { ServiceURL = endpoint.ToString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
        Environment.SetEnvironmentVariable("RESTIC_PASSWORD", Password);
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", credentials.AccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", credentials.SecretKey);
        var port = bed.GetProperty("sshPort").GetInt32();
        var sshArgs = $"-F /dev/null -p {port} -i {S("sshKey")} -o IdentitiesOnly=yes -o UserKnownHostsFile={S("knownHosts")} -o GlobalKnownHostsFile=/dev/null " +
            $"-o BatchMode=yes -o LogLevel=ERROR {S("sshUser")}@127.0.0.1 -s sftp";
        const string S3Opts = "-o s3.bucket-lookup=path -o s3.region=us-east-1";

        Console.WriteLine();
        Console.WriteLine($"== backends: {Path.GetFileName(v1)} then {Path.GetFileName(v2)} ({BackupBench.Mib(capacity):0} MiB sparse ext4), backup v1, backup v2, restore v2 per tool " +
            $"and backend, {runs} rounds (backends and tools rotated in each round); every step opens the repository anew, as a command does");
        Console.WriteLine($"   directory: a local folder under {work}; sftp: sftp://{S("sshUser")}@127.0.0.1:{port}{vmfs}/… (the test bed's sshd and sftp-server); " +
            $"s3: Swift s3api at {endpoint} through the bench's counting proxy (Ceso: http on :{proxy.PlainPort}; restic: https on :{proxy.TlsPort}, self-signed, --cacert)");

        // restic's S3 backend over plain http against Swift, once: the finding that makes the TLS listener necessary.
        var probe = ShErr($"restic {S3Opts} -r s3:http://127.0.0.1:{proxy.PlainPort}/bench-restic-http-probe init");
        Console.WriteLine(probe.Code == 0
            ? "   restic s3 over plain http: works"
            : $"   restic s3 over plain http: fails (exit {probe.Code}: {probe.Err.Trim().Split('\n').Last()}) -- minio-go signs http bodies as aws-chunked streams, which Swift's s3api answers 501; over https it sends plain signed bodies, which Swift takes");
        proxy.Take();

        var backends = Environment.GetEnvironmentVariable("BACKENDS") is { Length: > 0 } only ? only.Split(',') : ["directory", "sftp", "s3"];
        var results = new Dictionary<(string Backend, string Tool, string Step), List<BackendSample>>();
        var mismatches = new List<string>();
        var restic3 = true;
        var t0 = Stopwatch.StartNew();
        for (var r = 0; r < runs; r++)
        {
            for (var b = 0; b < backends.Length; b++)
            {
                var backend = backends[(b + r) % backends.Length];
                foreach (var tool in r % 2 == 0 ? new[] { "ceso", "restic" } : ["restic", "ceso"])
                {
                    var id = $"bench-{tool}-{backend}-{r}";
                    Console.Error.WriteLine($"round {r + 1}/{runs}: {backend} {tool}... ({t0.Elapsed.TotalSeconds:0} s)");
                    var folder = Path.Combine(localDir, id);
                    var dir = Path.Combine(work, id);

                    // Where the repository is, and its size: a folder of ours, a folder of the datastore, a bucket.
                    long Size() => backend switch
                    {
                        "directory" => BackupBench.Du(dir),
                        "sftp" => BackupBench.Du(folder),
                        _ => BucketSize(s3, id),
                    };
                    WireCounts Take() => backend switch { "sftp" => sftp.Take(), "s3" => proxy.Take(), _ => WireCounts.None };
                    void Add(string step, BackendSample s) => (results.TryGetValue((backend, tool, step), out var l) ? l : results[(backend, tool, step)] = []).Add(s);

                    if (tool == "ceso")
                    {
                        IBackupBackend Open(bool create) => backend switch
                        {
                            "directory" => RepositoryBackends.Open(RepositoryLocation.Parse(dir)),
                            "s3" => RepositoryBackends.Open(RepositoryLocation.Parse($"s3:http://127.0.0.1:{proxy.PlainPort}/{id}"), credentials, null, create),
                            // RepositoryBackends.Open's SFTP backend, with the counting ssh (a location cannot name an ssh executable).
                            _ => new RetryingBackend(new SftpBackend(new SshTarget
                            {
                                Host = "127.0.0.1",
                                Port = port,
                                User = S("sshUser"),
                                IdentityFile = S("sshKey"),
                                KnownHostsFile = S("knownHosts"),
                                SshExecutable = sftp.Ssh,
                            }, $"{vmfs}/{id}")),
                        };

                        await using (var created = new CountingBackend(Open(create: true)))
                        {
                            await BackupRepository.InitAsync(created, Password, new RepositoryOptions());
                        }

                        Take();
                        foreach (var (step, image) in new[] { ("backup-v1", v1), ("backup-v2", v2) })
                        {
                            Put(image);
                            var before = Size();
                            var sw = Stopwatch.StartNew();
                            BackendCounts calls;
                            BackupRun run;
                            await using (var counting = new CountingBackend(Open(create: false)))
                            {
                                var repo = new OpenedRepository(await BackupRepository.OpenAsync(counting, Password), null);
                                (var plan, run) = await BackupOperations.PlanBackupAsync(session, home, repo, new BackupVmRequest(BackupBench.Vm));
                                var result = await executor.ExecuteAsync(plan);
                                if (run.Snapshot is null)
                                {
                                    throw new InvalidOperationException($"ceso {backend} {step}: no snapshot ({result})");
                                }

                                calls = counting.Counts;
                            }

                            var wall = sw.Elapsed.TotalSeconds;
                            var size = Size();
                            Add(step, new BackendSample(wall, Take(), calls, size, size - before, ""));
                        }

                        {
                            var name = $"{BackupBench.Vm}-{backend}-{r}";
                            var sw = Stopwatch.StartNew();
                            BackendCounts calls;
                            await using (var counting = new CountingBackend(Open(create: false)))
                            {
                                var repo = new OpenedRepository(await BackupRepository.OpenAsync(counting, Password), null);
                                var latest = (await repo.Repository.ListSnapshotsAsync()).OrderBy(x => x.Time).Last();
                                var (plan, _) = await BackupOperations.PlanRestoreAsync(session, home, repo, new RestoreVmRequest(latest.Id, name));
                                await executor.ExecuteAsync(plan);
                                calls = counting.Counts;
                            }

                            var wall = sw.Elapsed.TotalSeconds;
                            var wire = Take();
                            var restored = Directory.EnumerateFiles(Path.Combine(localDir, name), "*-flat.vmdk").FirstOrDefault();
                            var same = restored is not null && BackupBench.Sh($"cmp -s '{v2}' '{restored}'", check: false) == 0;
                            await executor.ExecuteAsync((await ops.PlanRemoveAsync(name, keepFiles: false)).Plan);
                            if (!same)
                            {
                                mismatches.Add($"ceso {backend} round {r + 1}: restored v2 {(restored is null ? "missing" : "differs")}");
                            }

                            Add("restore-v2", new BackendSample(wall, wire, calls, Size(), 0, same ? "identical" : "DIFFERS"));
                        }
                    }
                    else
                    {
                        var repoArgs = backend switch
                        {
                            "directory" => $"-r '{dir}'",
                            "sftp" => $"-o sftp.command='{sftp.Ssh} {sshArgs}' -r sftp:{S("sshUser")}@127.0.0.1:{vmfs}/{id}",
                            _ => $"--cacert '{cert}' {S3Opts} -r s3:https://127.0.0.1:{proxy.TlsPort}/{id}",
                        };
                        if (backend == "s3" && !restic3)
                        {
                            continue;
                        }

                        var init = ShErr($"restic init -q {repoArgs} --repository-version 2");
                        if (init.Code != 0)
                        {
                            Console.WriteLine($"   restic {backend}: init failed (exit {init.Code}): {init.Err.Trim()}; restic is left out of this backend");
                            restic3 &= backend != "s3";
                            continue;
                        }

                        Take();
                        foreach (var (step, image) in new[] { ("backup-v1", v1), ("backup-v2", v2) })
                        {
                            Put(image);
                            var before = Size();
                            var sw = Stopwatch.StartNew();
                            BackupBench.Sh($"{sshCat} | restic -q {repoArgs} backup --compression auto --stdin --stdin-filename disk.img");
                            var wall = sw.Elapsed.TotalSeconds;
                            var size = Size();
                            Add(step, new BackendSample(wall, Take(), null, size, size - before, ""));
                        }

                        var outDir = Path.Combine(work, "out-" + id);
                        Directory.CreateDirectory(outDir);
                        var rsw = Stopwatch.StartNew();
                        BackupBench.Sh($"restic -q {repoArgs} dump latest disk.img | cp --sparse=always /dev/stdin '{outDir}/disk.img'");
                        var rwall = rsw.Elapsed.TotalSeconds;
                        var rwire = Take();
                        var ok = BackupBench.Sh($"cmp -s '{v2}' '{outDir}/disk.img'", check: false) == 0;
                        if (!ok)
                        {
                            mismatches.Add($"restic {backend} round {r + 1}: restored v2 differs");
                        }

                        Add("restore-v2", new BackendSample(rwall, rwire, null, Size(), 0, ok ? "identical" : "DIFFERS"));
                        Directory.Delete(outDir, true);
                    }

                    // Only the two folders go; buckets stay in Swift's state dir, which run.sh removes with the rest.
                    foreach (var d in new[] { dir, folder })
                    {
                        if (Directory.Exists(d))
                        {
                            Directory.Delete(d, true);
                        }
                    }
                }
            }
        }

        Print(results, backends, mismatches);
        Directory.Delete(work, true);
    }

    private static void Print(Dictionary<(string Backend, string Tool, string Step), List<BackendSample>> results, string[] backends, List<string> mismatches)
    {
        static double Median(IEnumerable<double> v) => BackupBench.Median(v);
        static string MiB(double bytes) => double.IsNaN(bytes) ? "-" : $"{BackupBench.Mib(bytes):0.0}";
        var steps = new[] { "backup-v1", "backup-v2", "restore-v2" };
        Console.WriteLine("medians (min-max wall) per backend, tool and step. wall: open the repository + the step + close, as one command. " +
            "sent/recv: bytes to/from the backend on the wire (sftp: the SFTP stream in the ssh pipe; s3: HTTP through the proxy, heads included; " +
            "directory: no wire, sent = the repository's growth). requests: SFTP packets / HTTP requests the client sent (top kinds after). " +
            "ceso calls: CountingBackend's IBackupBackend calls (outside RetryingBackend) and the bytes saved/read through it. repo: size after the step.");
        foreach (var backend in backends)
        {
            Console.WriteLine($"-- {backend}");
            foreach (var tool in new[] { "ceso", "restic" })
            {
                foreach (var step in steps)
                {
                    if (!results.TryGetValue((backend, tool, step), out var s))
                    {
                        Console.WriteLine($"{tool,-7} {step,-10} not measured");
                        continue;
                    }

                    var wall = s.Select(x => x.WallS).ToList();
                    var local = backend == "directory";
                    var sent = local ? (step.StartsWith("backup", StringComparison.Ordinal) ? Median(s.Select(x => (double)x.Growth)) : double.NaN) : Median(s.Select(x => (double)x.Wire.BytesSent));
                    var recv = local ? double.NaN : Median(s.Select(x => (double)x.Wire.BytesReceived));
                    var req = local ? "-" : $"{Median(s.Select(x => (double)x.Wire.TotalRequests)):0}";
                    var kinds = local ? "" : $" ({s[^1].Wire.ByKind(4)})";
                    var calls = s[0].Calls is null ? "" : $"  ceso calls {Median(s.Select(x => (double)x.Calls!.TotalCalls)):0} ({s[^1].Calls!.ByOp()}), " +
                        $"saved {MiB(Median(s.Select(x => (double)x.Calls!.BytesSaved)))} MiB, read {MiB(Median(s.Select(x => (double)x.Calls!.BytesRead)))} MiB";
                    var note = string.Join(",", s.Select(x => x.Note).Where(n => n.Length > 0).Distinct()) + (s.All(x => x.Wire.Complete) ? "" : " (some wire counts incomplete)");
                    Console.WriteLine($"{tool,-7} {step,-10} wall {Median(wall),6:0.00} s ({wall.Min():0.00}-{wall.Max():0.00})  sent {MiB(sent),7} MiB  recv {MiB(recv),7} MiB  " +
                        $"requests {req,6}{kinds}  repo {MiB(Median(s.Select(x => (double)x.RepoBytes)))} MiB{calls}{(note.Length > 0 ? "  " + note : "")}");
                }
            }
        }

        Console.WriteLine("ceso/restic (medians):");
        Console.WriteLine("| backend | step | ceso wall s | restic wall s | wall ratio | ceso sent MiB | restic sent MiB | ceso requests | restic requests | ceso repo MiB | restic repo MiB |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var backend in backends)
        {
            foreach (var step in steps)
            {
                double M(string tool, Func<BackendSample, double> f) => results.TryGetValue((backend, tool, step), out var s) ? Median(s.Select(f)) : double.NaN;
                var local = backend == "directory";
                Func<BackendSample, double> sent = local ? x => step.StartsWith("backup", StringComparison.Ordinal) ? x.Growth : double.NaN : x => x.Wire.BytesSent;
                Func<BackendSample, double> req = x => local ? double.NaN : x.Wire.TotalRequests;
                var (cw, rw) = (M("ceso", x => x.WallS), M("restic", x => x.WallS));
                Console.WriteLine($"| {backend} | {step} | {cw:0.00} | {rw:0.00} | {cw / rw:0.00} | {MiB(M("ceso", sent))} | {MiB(M("restic", sent))} | " +
                    $"{N(M("ceso", req))} | {N(M("restic", req))} | {MiB(M("ceso", x => x.RepoBytes))} | {MiB(M("restic", x => x.RepoBytes))} |");
            }
        }

        Console.WriteLine($"restores byte-identical: {(mismatches.Count == 0 ? "every one" : string.Join("; ", mismatches))}");
    }

    private static string N(double v) => double.IsNaN(v) ? "-" : $"{v:0}";

    private static long BucketSize(AmazonS3Client s3, string bucket)
    {
        long total = 0;
        var request = new ListObjectsV2Request { BucketName = bucket };
        while (true)
        {
            ListObjectsV2Response page;
            try
            {
                page = s3.ListObjectsV2Async(request).GetAwaiter().GetResult();
            }
            catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return 0;
            }

            total += (page.S3Objects ?? []).Sum(o => o.Size ?? 0);
            if (page.IsTruncated != true)
            {
                return total;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    private static (int Code, string Err) ShErr(string command)
    {
        using var p = Process.Start(new ProcessStartInfo("/bin/bash", ["-o", "pipefail", "-c", command]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false })!;
        var err = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, err.Result);
    }
}
