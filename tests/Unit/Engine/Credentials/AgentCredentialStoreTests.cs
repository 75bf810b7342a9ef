using System.Text.Json.Nodes;
using Ceso.Engine;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Security;
using Ceso.Engine.Security.Credentials;

namespace Ceso.Tests.Engine.Credentials;

/// <summary>
/// The agents' credentials: the password in the credential store (<c>agent:&lt;agent&gt;</c>), the rest in
/// $CESO_HOME/agents/&lt;agent&gt;.credential.json; an old file with its password in the clear is migrated on read; a
/// store that cannot take the password is an error, never a plaintext fallback.
/// </summary>
public sealed class AgentCredentialStoreTests : IDisposable
{
    private const string Passphrase = "agent-store-tests-passphrase";
    private readonly CesoHome _home = new(Directory.CreateTempSubdirectory("ceso-agent-cred-").FullName);
    private static readonly DateTimeOffset Created = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly AgentCredential Claude = new("Claude", "esx01", "ceso-claude", "Agent-Pa55-word-7e1d", Created, [PermissionEntity.Vm("12", "db01")]);

    public void Dispose() => Directory.Delete(_home.Path, true);

    // Fast PBKDF2: the file's own count is what a reader uses; tests need no 600k.
    private EncryptedFileCredentialStore FileStore(string? passphrase = Passphrase) => new(CredentialStores.FilePath(_home), passphrase, 1000);

    private AgentCredentialStore Store(string? passphrase = Passphrase) => new(_home, FileStore(passphrase));

    [Fact(Timeout = 30_000)]
    public async Task Save_puts_the_password_in_the_credential_store_and_only_the_rest_in_the_0600_file()
    {
        await Store().SaveAsync(Claude, default);

        var path = Store().PathOf("Claude");
        var text = await File.ReadAllTextAsync(path);
        Assert.DoesNotContain(Claude.Password, text, StringComparison.Ordinal);
        Assert.Equal("agent:claude", JsonNode.Parse(text)!["CredentialName"]!.GetValue<string>());
        Assert.Equal("ceso-claude", (await FileStore().LoadAsync("agent:claude", default))!.UserName);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var read = await Store().ReadAsync("claude", default);
        Assert.Equal(Claude with { NoAccess = read!.NoAccess }, read);
        Assert.Equal(Claude.NoAccess, read.NoAccess);
    }

    [Fact(Timeout = 30_000)]
    public async Task An_old_file_with_its_password_is_migrated_on_read_into_the_store_and_rewritten_without_it()
    {
        var path = Store().PathOf("claude");
        await File.WriteAllTextAsync(path, System.Text.Json.JsonSerializer.Serialize(Claude)); // the format before the store

        var read = await Store().ReadAsync("claude", default);

        Assert.Equal(Claude.Password, read!.Password);
        Assert.DoesNotContain(Claude.Password, await File.ReadAllTextAsync(path), StringComparison.Ordinal);
        Assert.Equal(Claude.Password, (await FileStore().LoadAsync("agent:claude", default))!.Password);
        Assert.Equal(Claude.Password, (await Store().ReadAsync("claude", default))!.Password); // now from the store
    }

    [Fact(Timeout = 30_000)]
    public async Task Without_a_passphrase_saving_and_migrating_are_CredentialStoreLocked_and_the_old_file_is_left_as_it_was()
    {
        var path = Store().PathOf("claude");
        var old = System.Text.Json.JsonSerializer.Serialize(Claude);
        await File.WriteAllTextAsync(path, old);

        var save = await Assert.ThrowsAsync<CesoException>(() => Store(passphrase: null).SaveAsync(Claude with { Agent = "other" }, default));
        var read = await Assert.ThrowsAsync<CesoException>(() => Store(passphrase: null).ReadAsync("claude", default));

        Assert.Equal("CredentialStoreLocked", save.ErrorId);
        Assert.Equal("CredentialStoreLocked", read.ErrorId);
        Assert.Equal(old, await File.ReadAllTextAsync(path));
        Assert.False(File.Exists(Store().PathOf("other")));
        Assert.Null(await Store(passphrase: null).ReadAsync("nobody", default)); // no file: nothing to unlock
    }

    [Fact(Timeout = 30_000)]
    public async Task A_file_whose_store_entry_is_gone_is_AgentCredentialNotFound_and_delete_removes_entry_and_file()
    {
        await Store().SaveAsync(Claude, default);
        await Store().DeleteAsync("claude", default);

        Assert.False(File.Exists(Store().PathOf("claude")));
        Assert.Null(await FileStore().LoadAsync("agent:claude", default));

        await Store().SaveAsync(Claude, default);
        await FileStore().RemoveAsync("agent:claude", default);
        var e = await Assert.ThrowsAsync<CesoException>(() => Store().ReadAsync("claude", default));
        Assert.Equal("AgentCredentialNotFound", e.ErrorId);
        Assert.DoesNotContain(Claude.Password, e.Message, StringComparison.Ordinal);
    }
}
