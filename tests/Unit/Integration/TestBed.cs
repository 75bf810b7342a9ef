using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;

namespace Ceso.Tests.Integration;

/// <summary>
/// The simulated standalone ESXi host (testbed/bin/cesobed: vcsim in ESX mode + OpenSSH sshd + the ESXi command
/// layer), started once per test run on 127.0.0.1 and stopped at the end. If it cannot start, every integration test
/// fails with a message that names what is missing; none is skipped. It presents as ESXi 8.0 U3 unless a subclass
/// asks for another persona (<see cref="TestBed70U3"/>).
/// </summary>
public class TestBed : IAsyncLifetime
{
    private Process? _process;

    /// <summary>A test bed with the default persona (ESXi 8.0 U3).</summary>
    public TestBed()
        : this("8.0u3")
    {
    }

    /// <summary>A test bed that presents as the given ESXi release (<c>cesobed serve -persona</c>: 7.0u3, 8.0u3).</summary>
    protected TestBed(string persona) => Persona = persona;

    /// <summary>The ESXi release the test bed presents as.</summary>
    public string Persona { get; }

    /// <summary>Extra <c>cesobed serve</c> flags of a subclass.</summary>
    protected virtual IEnumerable<string> ExtraServeArgs => [];

    /// <summary>What the test bed printed on start.</summary>
    public TestBedInfo Info { get; private set; } = null!;

    /// <summary>A private $CESO_HOME for the run.</summary>
    public CesoHome Home { get; } = new(Path.Combine(Path.GetTempPath(), "ceso-test-home-" + Guid.NewGuid().ToString("N")));

    /// <summary>The repository root.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>Number of VMs the test bed starts with.</summary>
    public const int InitialVms = 4;

    public async Task InitializeAsync()
    {
        var exe = Path.Combine(RepoRoot, "testbed", "bin", "cesobed");
        if (!File.Exists(exe) || !File.Exists(Path.Combine(RepoRoot, "testbed", "bin", "cesolock.so")))
        {
            var build = Run(Path.Combine(RepoRoot, "testbed", "build.sh"), []);
            if (build.Code != 0 || !File.Exists(exe))
            {
                throw new InvalidOperationException(
                    $"The test bed is not built and testbed/build.sh failed ({build.Output.Trim()}). It needs Debian's golang-go, " +
                    "golang-github-vmware-govmomi-dev and openssh-server: run .ci/run once, or apt-get install them and run testbed/build.sh.");
            }
        }

        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "serve", "-vm", InitialVms.ToString(System.Globalization.CultureInfo.InvariantCulture), "-persona", Persona }.Concat(ExtraServeArgs))
        {
            psi.ArgumentList.Add(a);
        }

        _process = Process.Start(psi)!;
        _ = _process.StandardError.ReadToEndAsync(); // keep the pipe drained
        var lineTask = _process.StandardOutput.ReadLineAsync();
        if (await Task.WhenAny(lineTask, Task.Delay(TimeSpan.FromSeconds(60))) != lineTask || lineTask.Result is null)
        {
            throw new InvalidOperationException("The test bed did not print its start line within 60 s (testbed/bin/cesobed serve).");
        }

        var line = lineTask.Result!;
        using (var doc = JsonDocument.Parse(line))
        {
            if (doc.RootElement.TryGetProperty("error", out var err))
            {
                throw new InvalidOperationException("The test bed could not start: " + err.GetString());
            }
        }

        Info = JsonSerializer.Deserialize<TestBedInfo>(line)!;
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false } p)
        {
            Run("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await p.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                p.Kill(entireProcessTree: true);
            }
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(Home.Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>A profile for the test bed over the given transport (both transports configured for Auto).</summary>
    public ConnectionProfile Profile(Transport transport = Transport.Auto) => new()
    {
        Server = Info.SoapHost,
        SoapPort = Info.SoapPort,
        SoapUser = transport == Transport.Ssh ? null : Info.Username,
        SoapPassword = transport == Transport.Ssh ? null : Info.Password,
        Thumbprint = Info.ThumbprintSha256,
        SshUser = transport == Transport.Soap ? null : Info.SshUser,
        SshPort = Info.SshPort,
        SshKeyPath = Info.SshKey,
        KnownHostsPath = Info.KnownHosts,
        SshConfigFile = "none",
        Transport = transport,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>Opens a session to the test bed.</summary>
    public Task<CesoSession> ConnectAsync(Transport transport = Transport.Auto, CesoHome? home = null) =>
        new SessionFactory(home ?? Home).ConnectAsync(Profile(transport));

    /// <summary>A session with the VM operations and a plan executor that audits to the run's CESO_HOME.</summary>
    public async Task<(CesoSession Session, Ceso.Engine.Operations.VmOperations Vms, Ceso.Engine.Planning.PlanExecutor Executor)> OpenOperationsAsync(Transport transport)
    {
        var session = await ConnectAsync(transport);
        var redactor = new Ceso.Engine.Security.Redactor();
        return (session, new Ceso.Engine.Operations.VmOperations(session, Home),
            new Ceso.Engine.Planning.PlanExecutor(Ceso.Engine.Security.AuditLog.Open(Home, redactor), redactor, new Ceso.Engine.Security.AuditActor("tester", null)));
    }

    /// <summary>Sets faults (<c>restricted=on</c>, <c>delayMs=200</c>, …) through <c>cesobed fault</c>.</summary>
    public void Fault(params string[] settings)
    {
        var r = Run(Path.Combine(RepoRoot, "testbed", "bin", "cesobed"), ["fault", "-state", Info.StateDir, .. settings]);
        Assert.True(r.Code == 0, "cesobed fault failed: " + r.Output);
    }

    /// <summary>
    /// Makes the running VM's guest write <paramref name="data"/> at <paramref name="offset"/> of its first disk, into
    /// its current disk (the base without a snapshot, the newest delta with one): <c>cesobed guest-write</c>. Returns
    /// the write's record (a guestwrites.jsonl line: file, target base|delta, offset, length, seq).
    /// </summary>
    public string GuestWrite(string vm, long offset, string data)
    {
        var r = Run(Path.Combine(RepoRoot, "testbed", "bin", "cesobed"),
            ["guest-write", "-state", Info.StateDir, "-data", data, vm, offset.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(r.Code == 0, "cesobed guest-write failed: " + r.Output);
        return r.Output;
    }

    /// <summary>Clears every fault.</summary>
    public void ClearFaults() => Fault("clear");

    /// <summary>Every call the test bed has seen so far, in order.</summary>
    public IReadOnlyList<CallRecord> Calls()
    {
        using var fs = new FileStream(Info.CallLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(fs);
        var list = new List<CallRecord>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0)
            {
                list.Add(JsonSerializer.Deserialize<CallRecord>(line)!);
            }
        }

        return list;
    }

    /// <summary>The calls made since <paramref name="mark"/> (a count taken earlier from <see cref="Calls"/>).</summary>
    public IReadOnlyList<CallRecord> CallsSince(int mark) => Calls().Skip(mark).ToList();

    internal static (int Code, string Output) Run(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output + err.Result);
    }

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Ceso.sln")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException("Cannot find the repository root (Ceso.sln) above " + AppContext.BaseDirectory);
    }
}

/// <summary>The test bed's start line (testbed/SPEC.md).</summary>
public sealed record TestBedInfo(
    [property: JsonPropertyName("soapUrl")] string SoapUrl,
    [property: JsonPropertyName("soapHost")] string SoapHost,
    [property: JsonPropertyName("soapPort")] int SoapPort,
    [property: JsonPropertyName("username")] string Username,
    [property: JsonPropertyName("password")] string Password,
    [property: JsonPropertyName("thumbprintSha1")] string ThumbprintSha1,
    [property: JsonPropertyName("thumbprintSha256")] string ThumbprintSha256,
    [property: JsonPropertyName("sshHost")] string SshHost,
    [property: JsonPropertyName("sshPort")] int SshPort,
    [property: JsonPropertyName("sshUser")] string SshUser,
    [property: JsonPropertyName("sshKey")] string SshKey,
    [property: JsonPropertyName("knownHosts")] string KnownHosts,
    [property: JsonPropertyName("stateDir")] string StateDir,
    [property: JsonPropertyName("callLog")] string CallLog,
    [property: JsonPropertyName("datastores")] IReadOnlyList<TestBedDatastore> Datastores,
    [property: JsonPropertyName("persona")] string Persona,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("build")] string Build,
    [property: JsonPropertyName("apiVersion")] string ApiVersion);

/// <summary>A datastore of the test bed and the local directory behind it.</summary>
public sealed record TestBedDatastore(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("uuid")] string Uuid,
    [property: JsonPropertyName("localDir")] string LocalDir);

/// <summary>One line of the test bed's call log.</summary>
public sealed record CallRecord(
    [property: JsonPropertyName("channel")] string Channel,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("write")] bool Write,
    [property: JsonPropertyName("internal")] bool Internal,
    [property: JsonPropertyName("fault")] string? Fault = null,
    [property: JsonPropertyName("user")] string? User = null);

[CollectionDefinition(Name)]
public sealed class TestBedCollection : ICollectionFixture<TestBed>
{
    public const string Name = "TestBed";
}

/// <summary>The test bed presenting as ESXi 7.0 U3 (build 21930508), for tests that run over both personas.</summary>
public sealed class TestBed70U3() : TestBed("7.0u3");

[CollectionDefinition(Name)]
public sealed class TestBed70U3Collection : ICollectionFixture<TestBed70U3>
{
    public const string Name = "TestBed 7.0 U3";
}

/// <summary>A test bed with 12 VMs instead of 4 (a later <c>-vm</c> flag wins), for tests that compare costs by VM count.</summary>
public sealed class TestBed12Vms : TestBed
{
    /// <summary>Number of VMs this test bed starts with.</summary>
    public const int Vms = 12;

    /// <inheritdoc />
    protected override IEnumerable<string> ExtraServeArgs => ["-vm", Vms.ToString(System.Globalization.CultureInfo.InvariantCulture)];
}

[CollectionDefinition(Name)]
public sealed class TestBed12VmsCollection : ICollectionFixture<TestBed12Vms>
{
    public const string Name = "TestBed 12 VMs";
}
