using System.Diagnostics;
using Ceso.Engine;
using Ceso.Engine.Connection;
using Ceso.Engine.Security.Credentials;

namespace Ceso.Tests.Engine.Credentials;

/// <summary>
/// A real gnome-keyring (Debian's, secrets component only) on a private D-Bus session bus, unlocked with a passphrase
/// on stdin: its own HOME and XDG folders, both daemons stopped by pid. Nothing of the user's keyring is touched.
/// </summary>
public sealed class PrivateKeyring : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("ceso-keyring-").FullName;
    private Process? _bus;
    private Process? _keyring;

    /// <summary>The private bus's address.</summary>
    public string Address { get; private set; } = "";

    /// <summary>The variables a process needs to reach this keyring.</summary>
    public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?>
    {
        ["DBUS_SESSION_BUS_ADDRESS"] = Address,
        ["HOME"] = _root,
        ["XDG_RUNTIME_DIR"] = Path.Combine(_root, "run"),
        ["XDG_DATA_HOME"] = Path.Combine(_root, "data"),
        ["XDG_CONFIG_HOME"] = Path.Combine(_root, "config"),
    };

    /// <summary>secret-tool's path.</summary>
    public string SecretTool { get; } = CredentialStores.FindSecretTool(System.Environment.GetEnvironmentVariable("PATH")) ?? "";

    public async Task InitializeAsync()
    {
        foreach (var tool in new[] { "dbus-daemon", "gnome-keyring-daemon", "secret-tool" })
        {
            var dirs = (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator);
            Assert.True(dirs.Any(d => File.Exists(Path.Combine(d, tool))),
                $"{tool} is missing: the Secret Service tests need dbus, gnome-keyring and libsecret-tools (testbed/install-deps.sh installs them).");
        }

        var run = Directory.CreateDirectory(Path.Combine(_root, "run"));
        if (!OperatingSystem.IsWindows()) run.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        _bus = Start("dbus-daemon", ["--session", "--nofork", "--print-address=1"], withBus: false);
        Address = (await _bus.StandardOutput.ReadLineAsync())?.Trim() ?? throw new InvalidOperationException("dbus-daemon printed no address");
        _keyring = Start("gnome-keyring-daemon", ["--foreground", "--unlock", "--components=secrets"], withBus: true);
        await _keyring.StandardInput.WriteAsync("private-keyring-passphrase");
        _keyring.StandardInput.Close();
        var store = new SecretServiceCredentialStore(SecretTool, Environment);
        for (var i = 0; i < 100 && !await store.AnswersAsync(default); i++)
        {
            await Task.Delay(100);
        }
    }

    private Process Start(string file, string[] args, bool withBus)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in Environment.Where(e => withBus || e.Key != "DBUS_SESSION_BUS_ADDRESS")) psi.Environment[k] = v;
        var p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        return p;
    }

    public async Task DisposeAsync()
    {
        foreach (var p in new[] { _keyring, _bus })
        {
            if (p is null) continue;
            if (!p.HasExited) p.Kill();
            await p.WaitForExitAsync();
            p.Dispose();
        }

        Directory.Delete(_root, true);
    }
}

/// <summary>The Secret Service store through secret-tool against that keyring: the secret never in a process's arguments.</summary>
public sealed class SecretServiceCredentialStoreTests(PrivateKeyring keyring) : IClassFixture<PrivateKeyring>
{
    private static readonly DateTimeOffset Saved = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private SecretServiceCredentialStore Store() => new(keyring.SecretTool, keyring.Environment);

    [Fact(Timeout = 60_000)]
    public async Task A_saved_credential_loads_back_lists_without_its_secret_and_is_removed()
    {
        var secret = new CredentialSecret("esx01-ss", CredentialSecret.CredentialKind, "root", "Keyring-Pa55 with spaces\nand a newline", Saved);

        await Store().SaveAsync(secret, default);
        var loaded = await Store().LoadAsync("esx01-ss", default);
        var listed = await Store().ListAsync(default);
        var removed = await Store().RemoveAsync("esx01-ss", default);

        Assert.Equal(secret, loaded);
        Assert.Contains(new CesoCredential("esx01-ss", "Credential", "root", "secret-service", Saved), listed);
        Assert.True(removed);
        Assert.Null(await Store().LoadAsync("esx01-ss", default));
        Assert.False(await Store().RemoveAsync("esx01-ss", default));
    }

    [Fact(Timeout = 60_000)]
    public async Task Saving_a_name_again_replaces_the_item_instead_of_adding_one()
    {
        await Store().SaveAsync(new CredentialSecret("repository:ss", CredentialSecret.PasswordKind, null, "first-password", Saved), default);
        await Store().SaveAsync(new CredentialSecret("repository:ss", CredentialSecret.PasswordKind, null, "second-password", Saved.AddDays(1)), default);

        var listed = (await Store().ListAsync(default)).Where(c => c.Name == "repository:ss").ToList();

        Assert.Equal(Saved.AddDays(1), Assert.Single(listed).SavedAt);
        Assert.Equal("second-password", (await Store().LoadAsync("repository:ss", default))!.Password);
        await Store().RemoveAsync("repository:ss", default);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_secret_never_appears_in_the_arguments_of_any_process_while_secret_tool_runs()
    {
        const string password = "ArgvCanary-7f3e9b";
        var seen = new List<string>();
        using var stop = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var dir in Directory.EnumerateDirectories("/proc"))
                {
                    try { seen.Add(File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ')); }
                    catch (IOException) { } // the process ended
                    catch (UnauthorizedAccessException) { }
                }

                await Task.Delay(1);
            }
        });

        for (var i = 0; i < 5; i++)
        {
            await Store().SaveAsync(new CredentialSecret("argv-canary", CredentialSecret.PasswordKind, null, password, Saved), default);
            Assert.Equal(password, (await Store().LoadAsync("argv-canary", default))!.Password);
        }

        await Store().RemoveAsync("argv-canary", default);
        stop.Cancel();
        await watcher;

        Assert.Contains(seen, c => c.Contains("secret-tool store", StringComparison.Ordinal)); // the watcher did see the tool run
        Assert.DoesNotContain(seen, c => c.Contains(password, StringComparison.Ordinal) || c.Contains(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(password)), StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Without_a_reachable_service_it_is_CredentialStoreUnavailable_saying_what_to_do()
    {
        var env = keyring.Environment.ToDictionary(e => e.Key, e => e.Value);
        env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + Path.Combine(Path.GetTempPath(), "ceso-no-bus-" + Guid.NewGuid().ToString("N"));
        var store = new SecretServiceCredentialStore(keyring.SecretTool, env);

        var e = await Assert.ThrowsAsync<CesoException>(() => store.SaveAsync(new CredentialSecret("x1", CredentialSecret.PasswordKind, null, "whatever-secret", Saved), default));

        Assert.Equal("CredentialStoreUnavailable", e.ErrorId);
        Assert.Contains("CESO_CREDENTIAL_STORE", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("whatever-secret", e.Message, StringComparison.Ordinal);
        Assert.False(await store.AnswersAsync(default));
    }

    [Fact(Timeout = 60_000)]
    public async Task Selection_takes_the_Secret_Service_when_a_bus_answers_and_the_file_otherwise_and_refuses_unknown_stores()
    {
        var home = new CesoHome(Directory.CreateTempSubdirectory("ceso-select-").FullName);
        try
        {
            var path = System.Environment.GetEnvironmentVariable("PATH");
            var noBus = await CredentialStores.OpenAsync(home, new CredentialStoreSettings(null, null, null, path), default);
            var withBus = await CredentialStores.OpenAsync(home, new CredentialStoreSettings(null, null, keyring.Address, path), default);
            var forcedFile = await CredentialStores.OpenAsync(home, new CredentialStoreSettings("file", "p", keyring.Address, path), default);
            var unknown = await Assert.ThrowsAsync<CesoException>(() => CredentialStores.OpenAsync(home, new CredentialStoreSettings("plaintext", null, null, path), default));
            var dpapi = await Assert.ThrowsAsync<CesoException>(() => CredentialStores.OpenAsync(home, new CredentialStoreSettings("dpapi", null, null, path), default));
            var noTool = await Assert.ThrowsAsync<CesoException>(() => CredentialStores.OpenAsync(home, new CredentialStoreSettings("secret-service", null, keyring.Address, "/nonexistent"), default));

            Assert.Equal("file", noBus.Kind);
            Assert.Equal("secret-service", withBus.Kind);
            Assert.Equal("file", forcedFile.Kind);
            Assert.Equal("CredentialStoreUnknown", unknown.ErrorId);
            Assert.Equal("CredentialStoreUnavailable", dpapi.ErrorId);
            Assert.Equal("CredentialStoreUnavailable", noTool.ErrorId);
            Assert.Contains("libsecret-tools", noTool.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(home.Path, true);
        }
    }
}
