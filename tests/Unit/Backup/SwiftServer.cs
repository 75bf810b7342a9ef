using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using Ceso.Engine.Backup;
using Ceso.Tests.Integration;

namespace Ceso.Tests.Backup;

/// <summary>
/// A private OpenStack Swift with s3api on 127.0.0.1 (testbed/swift-s3/start.sh into a temporary state folder), started
/// once for the S3 tests and stopped by pid at the end (stop.sh). It fails with what to install when Swift is missing;
/// no test is skipped.
/// </summary>
public sealed class SwiftServer : IAsyncLifetime
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Where Swift keeps its configuration, data and logs.</summary>
    public string StateDir { get; } = Path.Combine(Path.GetTempPath(), "ceso-swift-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>The S3 endpoint.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The access key (tempauth's <c>account:user</c>).</summary>
    public string AccessKey { get; private set; } = "";

    /// <summary>The secret key.</summary>
    public string SecretKey { get; private set; } = "";

    /// <summary>How long start.sh took until a signed bucket PUT worked.</summary>
    public int ReadyMs { get; private set; }

    public async Task InitializeAsync()
    {
        // A server that dies on start (a port another process bound between the pick and the bind) is tried again
        // with new ports; a missing package fails every attempt the same way and is reported as such.
        var failures = new List<string>();
        string? line = null;
        for (var attempt = 1; attempt <= 3 && line is null; attempt++)
        {
            var (exit, stdout, stderr) = await RunStartAsync();
            if (exit == 0 && stdout.StartsWith('{'))
            {
                line = stdout;
            }
            else
            {
                failures.Add($"attempt {attempt}: exit {exit}: {stderr}");
            }
        }

        if (line is null)
        {
            throw new InvalidOperationException(
                $"OpenStack Swift did not start (testbed/swift-s3/start.sh): {string.Join(" | ", failures)} " +
                "It needs Debian's swift-proxy swift-object swift-container swift-account memcached curl: run testbed/install-deps.sh as root.");
        }

        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        Endpoint = new Uri(root.GetProperty("endpoint").GetString()!);
        AccessKey = root.GetProperty("access_key").GetString()!;
        SecretKey = root.GetProperty("secret_key").GetString()!;
        ReadyMs = root.GetProperty("ready_ms").GetInt32();
    }

    private async Task<(int Exit, string Stdout, string Stderr)> RunStartAsync()
    {
        var script = Path.Combine(TestBed.RepoRoot, "testbed", "swift-s3", "start.sh");
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(StateDir);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        // start.sh gives the servers up to 90 s to answer (a loaded CI machine), then reports with the logs' last lines.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, (await stdout).Trim(), (await stderr).Trim());
    }

    public async Task DisposeAsync()
    {
        var psi = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(TestBed.RepoRoot, "testbed", "swift-s3", "stop.sh"));
        psi.ArgumentList.Add(StateDir);
        using (var p = Process.Start(psi)!)
        {
            await p.WaitForExitAsync();
        }

        try
        {
            Directory.Delete(StateDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A bucket name no other test uses.</summary>
    public static string NewBucket(string tag = "t") => $"ceso-{tag}-{Guid.NewGuid().ToString("N")[..20]}";

    /// <summary>Options for a bucket of this server (created by the first save); <paramref name="endpoint"/> replaces the server's (a proxy).</summary>
    public S3BackendOptions Options(string bucket, Uri? endpoint = null, string? secret = null) => new()
    {
        Endpoint = endpoint ?? Endpoint,
        Bucket = bucket,
        Credentials = S3Credentials.FromKeys(AccessKey, secret ?? SecretKey),
        CreateBucket = true,
        ConnectTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>A plain SDK client with the Swift settings, for what the backend does not show (multipart uploads in progress).</summary>
    public AmazonS3Client Client() => new(AccessKey, SecretKey, new AmazonS3Config
    {
        ServiceURL = Endpoint.ToString(),
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        MaxErrorRetry = 0,
        RequestChecksumCalculation = Amazon.Runtime.RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = Amazon.Runtime.ResponseChecksumValidation.WHEN_REQUIRED,
    });

    /// <summary>The multipart uploads started and neither completed nor aborted in <paramref name="bucket"/>.</summary>
    public async Task<List<MultipartUpload>> UploadsInProgressAsync(string bucket)
    {
        using var client = Client();
        var r = await client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket });
        return r.MultipartUploads ?? [];
    }

    /// <summary>
    /// Sets a byte quota (Swift's container_quotas middleware, through the Swift API of the same account) on the
    /// container behind <paramref name="bucket"/> and on its multipart segments container (created here when missing).
    /// </summary>
    public async Task SetQuotaAsync(string bucket, long bytes)
    {
        using var auth = new HttpRequestMessage(HttpMethod.Get, new Uri(Endpoint, "/auth/v1.0"));
        auth.Headers.Add("X-Auth-User", AccessKey);
        auth.Headers.Add("X-Auth-Key", SecretKey);
        using var authed = await Http.SendAsync(auth);
        authed.EnsureSuccessStatusCode();
        var token = authed.Headers.GetValues("X-Auth-Token").Single();
        var storage = authed.Headers.GetValues("X-Storage-Url").Single();
        foreach (var container in new[] { bucket, bucket + "+segments" })
        {
            using var put = new HttpRequestMessage(HttpMethod.Put, $"{storage}/{Uri.EscapeDataString(container)}") { Content = new ByteArrayContent([]) };
            put.Headers.Add("X-Auth-Token", token);
            put.Headers.Add("X-Container-Meta-Quota-Bytes", bytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
            put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var done = await Http.SendAsync(put);
            done.EnsureSuccessStatusCode();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SwiftCollection : ICollectionFixture<SwiftServer>
{
    public const string Name = "Swift (S3)";
}
