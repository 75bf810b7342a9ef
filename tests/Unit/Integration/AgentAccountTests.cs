using Ceso.Engine;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Planning;
using Ceso.Engine.Operations;
using Ceso.Engine.Security;
using Ceso.Engine.Soap;

namespace Ceso.Tests.Integration;

/// <summary>
/// The boundary on the host: an agent's ESXi account (New-CesoAgentAccount's plan) reads but cannot write, hostd-style
/// NoPermission; No Access on protected VMs; the password never reaches the audit log. Each test uses its own CESO_HOME
/// (protection list, credentials, audit log) so the shared test bed's other tests are not affected.
/// </summary>
[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class AgentAccountTests(TestBed bed) : IDisposable
{
    private readonly CesoHome _home = new(Path.Combine(Path.GetTempPath(), "ceso-agent-account-" + Guid.NewGuid().ToString("N")))
    {
        // The agents' passwords go to the credential store: here the encrypted file, unlocked by a passphrase.
        CredentialSettings = new("file", "agent-tests-passphrase-4f1c", null, null),
    };

    public void Dispose()
    {
        if (Directory.Exists(_home.Path)) Directory.Delete(_home.Path, recursive: true);
    }

    private PlanExecutor Executor(Redactor redactor) => new(AuditLog.Open(_home, redactor), redactor, new AuditActor("tester", null));

    private async Task<(AgentAccount Account, string Password)> CreateAccountAsync(CesoSession root, string agent)
    {
        var accounts = new HostAgentAccounts(root, _home);
        var password = HostAgentAccounts.NewPassword();
        var redactor = new Redactor();
        redactor.Add(password);
        var (plan, account) = await accounts.PlanCreateAsync(agent, password, default);
        await Executor(redactor).ExecuteAsync(plan);
        return (account, password);
    }

    private async Task RemoveAccountAsync(CesoSession root, string agent)
    {
        var (plan, _) = await new HostAgentAccounts(root, _home).PlanRemoveAsync(agent, default);
        await Executor(new Redactor()).ExecuteAsync(plan);
    }

    private Task<CesoSession> ConnectAsAsync(string user, string password) =>
        new SessionFactory(_home).ConnectAsync(bed.Profile(Transport.Soap) with { SoapUser = user, SoapPassword = password });

    [Fact]
    public async Task An_agent_account_reads_the_inventory_but_its_writes_fail_with_NoPermission()
    {
        await using var root = await bed.ConnectAsync(Transport.Soap, _home);
        var (account, password) = await CreateAccountAsync(root, "reader1");
        try
        {
            await using var agent = await ConnectAsAsync(account.User, password);
            var vms = await agent.Inventory.GetVmsAsync();
            Assert.Equal((await root.Inventory.GetVmsAsync()).Count, vms.Count);
            var mark = bed.Calls().Count;

            var e = await Assert.ThrowsAsync<VimFaultException>(() => agent.Soap!.InvokeAsync("PowerOnVM_Task", new MoRef("VirtualMachine", vms[0].Id), [], default));

            Assert.Equal("NoPermission", e.FaultType);
            Assert.Equal(CesoErrorKind.Security, e.Kind);
            Assert.Equal(vms[0].PowerState, (await root.Inventory.GetVmsAsync()).Single(v => v.Id == vms[0].Id).PowerState);
            Assert.Contains(bed.CallsSince(mark), c => c.Name == "PowerOnVM_Task" && c.Fault == "NoPermission" && c.User == account.User);
        }
        finally
        {
            await RemoveAccountAsync(root, "reader1");
        }
    }

    [Fact]
    public async Task A_created_user_logs_in_only_with_its_own_password_and_not_after_its_removal()
    {
        await using var root = await bed.ConnectAsync(Transport.Soap, _home);
        var (account, password) = await CreateAccountAsync(root, "login1");
        var wrong = await Assert.ThrowsAsync<VimFaultException>(() => ConnectAsAsync(account.User, password + "x"));
        Assert.Equal("InvalidLogin", wrong.FaultType);
        var stranger = await Assert.ThrowsAsync<VimFaultException>(() => ConnectAsAsync("nobody", password));
        Assert.Equal("InvalidLogin", stranger.FaultType);
        await (await ConnectAsAsync(account.User, password)).DisposeAsync();

        await RemoveAccountAsync(root, "login1");

        Assert.False(File.Exists(account.CredentialPath));
        var gone = await Assert.ThrowsAsync<VimFaultException>(() => ConnectAsAsync(account.User, password));
        Assert.Equal("InvalidLogin", gone.FaultType);
    }

    [Fact]
    public async Task A_permission_with_an_operator_role_allows_the_write_but_No_Access_on_a_protected_vm_still_refuses_it()
    {
        await using var root = await bed.ConnectAsync(Transport.Soap, _home);
        var vms = (await root.Inventory.GetVmsAsync()).OrderBy(v => v.Name, StringComparer.Ordinal).ToList();
        var (open, guarded) = (vms[0], vms[1]);
        File.WriteAllText(new ProtectionList(_home).Path, guarded.Name + "\n");
        var (account, password) = await CreateAccountAsync(root, "operator1");
        Assert.Equal([guarded.Name], account.NoAccessVm);
        var commands = new SoapHostAccountCommands(root.Soap!, root.ServiceContent!);
        try
        {
            await commands.SetPermission(PermissionEntity.HostRoot, account.User, "Admin", () => -1, propagate: true).Run(default);
            await using var agent = await ConnectAsAsync(account.User, password);

            await agent.Soap!.InvokeTaskAsync(agent.ServiceContent!.PropertyCollector, "PowerOnVM_Task", new MoRef("VirtualMachine", open.Id), [], default);
            var e = await Assert.ThrowsAsync<VimFaultException>(() => agent.Soap!.InvokeAsync("PowerOnVM_Task", new MoRef("VirtualMachine", guarded.Id), [], default));

            Assert.Equal("NoPermission", e.FaultType);
            await root.Soap!.InvokeTaskAsync(root.ServiceContent!.PropertyCollector, "PowerOffVM_Task", new MoRef("VirtualMachine", open.Id), [], default);
        }
        finally
        {
            await RemoveAccountAsync(root, "operator1");
        }
    }

    [Fact]
    public async Task The_password_is_in_the_credential_file_only_never_in_the_audit_log()
    {
        await using var root = await bed.ConnectAsync(Transport.Soap, _home);
        var (account, password) = await CreateAccountAsync(root, "secret1");
        try
        {
            var audit = AuditLog.Open(_home, new Redactor()).Read().Select(r => r.Command).ToList();
            Assert.Contains(audit, c => c.StartsWith("CreateUser(user.id=\"" + account.User + "\", user.password=<redacted>", StringComparison.Ordinal));
            Assert.DoesNotContain(password, File.ReadAllText(Path.Combine(_home.Path, "audit", "audit.jsonl")));
            Assert.Equal(password, new AgentCredentialStore(_home).Read("secret1")!.Password);
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(account.CredentialPath));
        }
        finally
        {
            await RemoveAccountAsync(root, "secret1");
        }
    }
}
