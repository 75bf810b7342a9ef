using System.Text.Json.Nodes;
using Ceso.Engine;
using Ceso.Engine.Security.Credentials;

namespace Ceso.Tests.Engine.Credentials;

/// <summary>The encrypted credential file: AES-256-GCM per entry under a PBKDF2 key, a verifier, atomic 0600 writes, a lock.</summary>
public sealed class EncryptedFileCredentialStoreTests : IDisposable
{
    private const string Passphrase = "correct horse battery staple";
    private const int FastIterations = 1000; // the file's own count is what a reader uses; tests need no 600k
    private readonly string _dir = Directory.CreateTempSubdirectory("ceso-cred-").FullName;
    private string File => Path.Combine(_dir, "credentials.json");
    private static readonly DateTimeOffset Saved = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    public void Dispose() => Directory.Delete(_dir, true);

    private EncryptedFileCredentialStore Store(string? passphrase = Passphrase) => new(File, passphrase, FastIterations);

    private static CredentialSecret Root(string name = "esx01", string password = "Pa55-w0rd-Zebra!") =>
        new(name, CredentialSecret.CredentialKind, "root", password, Saved);

    [Fact(Timeout = 30_000)]
    public async Task A_saved_credential_loads_back_with_its_user_password_and_time_and_lists_without_its_secret()
    {
        await Store().SaveAsync(Root(), default);
        await Store().SaveAsync(new CredentialSecret("repository:nas", CredentialSecret.PasswordKind, null, "repo-Secret-123", Saved), default);

        var loaded = await Store().LoadAsync("esx01", default);
        var listed = await Store(passphrase: null).ListAsync(default);

        Assert.Equal(Root(), loaded);
        Assert.Equal(["esx01", "repository:nas"], listed.Select(c => c.Name));
        Assert.Equal(new CesoCredential("esx01", "Credential", "root", "file", Saved), listed[0]);
        var text = await System.IO.File.ReadAllTextAsync(File);
        Assert.DoesNotContain("Pa55-w0rd-Zebra!", text, StringComparison.Ordinal);
        Assert.DoesNotContain("repo-Secret-123", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Pa55-w0rd-Zebra!", loaded!.ToString(), StringComparison.Ordinal);
        Assert.Null(await Store().LoadAsync("esx02", default));
    }

    [Fact(Timeout = 30_000)]
    public async Task Saving_a_name_again_replaces_it_and_remove_deletes_it_once()
    {
        await Store().SaveAsync(Root(), default);
        await Store().SaveAsync(Root(password: "Second-password-1"), default);

        Assert.Equal("Second-password-1", (await Store().LoadAsync("esx01", default))!.Password);
        Assert.Single(await Store().ListAsync(default));
        Assert.True(await Store().RemoveAsync("esx01", default));
        Assert.False(await Store().RemoveAsync("esx01", default));
        Assert.Empty(await Store().ListAsync(default));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_wrong_passphrase_is_CredentialPassphraseWrong_and_none_is_CredentialStoreLocked_naming_the_variable()
    {
        await Store().SaveAsync(Root(), default);

        var wrong = await Assert.ThrowsAsync<CesoException>(() => Store("not the passphrase!").LoadAsync("esx01", default));
        var wrongSave = await Assert.ThrowsAsync<CesoException>(() => Store("not the passphrase!").SaveAsync(Root("esx02"), default));
        var locked = await Assert.ThrowsAsync<CesoException>(() => Store(null).LoadAsync("esx01", default));

        Assert.Equal("CredentialPassphraseWrong", wrong.ErrorId);
        Assert.Equal("CredentialPassphraseWrong", wrongSave.ErrorId);
        Assert.Equal("CredentialStoreLocked", locked.ErrorId);
        Assert.Contains("CESO_CREDENTIAL_PASSPHRASE", locked.Message, StringComparison.Ordinal);
        Assert.Contains("never prompts", locked.Message, StringComparison.Ordinal);
        Assert.Equal(["esx01"], (await Store().ListAsync(default)).Select(c => c.Name));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_new_file_is_not_created_with_a_short_passphrase()
    {
        var e = await Assert.ThrowsAsync<CesoException>(() => Store("short").SaveAsync(Root(), default));

        Assert.Equal("CredentialPassphraseWeak", e.ErrorId);
        Assert.False(System.IO.File.Exists(File));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("data")]      // a flipped ciphertext byte
    [InlineData("userName")]  // the entry relabelled to another user
    [InlineData("name")]      // the entry moved to another name
    public async Task A_changed_entry_is_CredentialStoreCorrupt_and_never_opens(string field)
    {
        await Store().SaveAsync(Root(), default);
        var json = JsonNode.Parse(await System.IO.File.ReadAllTextAsync(File))!;
        var entry = json["entries"]![0]!;
        entry[field] = field == "data" ? Flip(entry["data"]!.GetValue<string>()) : field == "name" ? "esx01b" : "admin";
        await System.IO.File.WriteAllTextAsync(File, json.ToJsonString());

        var e = await Assert.ThrowsAsync<CesoException>(() => Store().LoadAsync(field == "name" ? "esx01b" : "esx01", default));

        Assert.Equal("CredentialStoreCorrupt", e.ErrorId);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_changed_verifier_or_salt_reads_as_a_wrong_passphrase()
    {
        await Store().SaveAsync(Root(), default);
        var json = JsonNode.Parse(await System.IO.File.ReadAllTextAsync(File))!;
        json["salt"] = Convert.ToBase64String(new byte[32]);
        await System.IO.File.WriteAllTextAsync(File, json.ToJsonString());

        var e = await Assert.ThrowsAsync<CesoException>(() => Store().LoadAsync("esx01", default));

        Assert.Equal("CredentialPassphraseWrong", e.ErrorId);
    }

    [Fact(Timeout = 30_000)]
    public async Task The_file_is_mode_0600_on_Unix_and_no_temporary_file_is_left()
    {
        if (OperatingSystem.IsWindows()) return; // file modes are a Unix notion; DPAPI is the Windows store
        await Store().SaveAsync(Root(), default);
        await Store().SaveAsync(Root("esx02"), default);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(File));
        Assert.Equal(["credentials.json", "credentials.json.lock"], Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Concurrent_saves_from_separate_store_instances_all_land()
    {
        await Store().SaveAsync(Root("first"), default); // the file and its key exist before the race

        await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(() => Store().SaveAsync(Root($"host{i:00}", $"password-{i:00}-xyz"), default))));

        var names = (await Store().ListAsync(default)).Select(c => c.Name).ToList();
        Assert.Equal(13, names.Count);
        for (var i = 0; i < 12; i++)
        {
            Assert.Equal($"password-{i:00}-xyz", (await Store().LoadAsync($"host{i:00}", default))!.Password);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task A_name_with_spaces_or_quotes_is_refused_before_anything_is_written()
    {
        var e = await Assert.ThrowsAsync<CesoException>(() => Store().SaveAsync(Root("bad name'"), default));

        Assert.Equal("CredentialNameInvalid", e.ErrorId);
        Assert.False(System.IO.File.Exists(File));
    }

    private static string Flip(string base64)
    {
        var bytes = Convert.FromBase64String(base64);
        bytes[^20] ^= 0x01;
        return Convert.ToBase64String(bytes);
    }
}
