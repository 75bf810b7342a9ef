using System.Globalization;
using Ceso.Engine;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Planning;
using Ceso.Engine.Operations;
using Ceso.Engine.Security;
using Ceso.Engine.Soap;

namespace Ceso.Tests.Integration;

/// <summary>
/// A grant's host side for an agent account: the agent's write fails with NoPermission before the grant, works during
/// it, and fails again once the host itself (its crontab, run by the test bed's crond: <c>cesobed cron-tick</c>) removed
/// the permission at expiry; a revoke removes permission, crontab and boot lines at once.
/// </summary>
[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class AgentAccountHostGrantTests(TestBed bed) : IDisposable
{
    private readonly CesoHome _home = new(Path.Combine(Path.GetTempPath(), "ceso-agent-grant-" + Guid.NewGuid().ToString("N")))
    {
        // The agents' passwords go to the credential store: here the encrypted file, unlocked by a passphrase.
        CredentialSettings = new("file", "agent-tests-passphrase-4f1c", null, null),
    };

    public void Dispose()
    {
        if (Directory.Exists(_home.Path)) Directory.Delete(_home.Path, recursive: true);
    }

    private PlanExecutor Executor(params string[] secrets)
    {
        var redactor = new Redactor();
        foreach (var s in secrets) redactor.Add(s);
        return new PlanExecutor(AuditLog.Open(_home, redactor), redactor, new AuditActor("tester", null));
    }

    private async Task<(AgentCredential Credential, CesoSession Root)> SetUpAsync(string agent)
    {
        var root = await bed.ConnectAsync(Transport.Auto, _home);
        var password = HostAgentAccounts.NewPassword();
        var (plan, _) = await new HostAgentAccounts(root, _home).PlanCreateAsync(agent, password, default);
        await Executor(password).ExecuteAsync(plan);
        return (new AgentCredentialStore(_home).Read(agent)!, root);
    }

    private async Task TearDownAsync(CesoSession root, string agent)
    {
        var (plan, _) = await new HostAgentAccounts(root, _home).PlanRemoveAsync(agent, default);
        await Executor().ExecuteAsync(plan);
        await root.DisposeAsync();
    }

    private Task<CesoSession> ConnectAsAgentAsync(AgentCredential c) =>
        new SessionFactory(_home).ConnectAsync(bed.Profile(Transport.Soap) with { SoapUser = c.User, SoapPassword = c.Password });

    private static AgentGrant Grant(string agent, TimeSpan duration, params string[] operations)
    {
        var now = DateTimeOffset.UtcNow;
        return new AgentGrant(AgentGrantStore.NewId(), agent, "tester", now, now + duration, null, [], operations, null, null, null);
    }

    private async Task<string> HostFileAsync(CesoSession root, string path) => (await root.Ssh!.RunAsync("cat " + path)).Stdout;

    // The role id of the user's permission on the host's root folder (over the API, as the admin).
    private static async Task<int?> RootRoleAsync(CesoSession root, string user)
    {
        var r = await root.Soap!.InvokeAsync("RetrieveEntityPermissions", StandaloneHost.AuthorizationManager,
            [VimClient.RefElement("entity", new MoRef("Folder", "ha-folder-root")), new System.Xml.Linq.XElement((System.Xml.Linq.XNamespace)"urn:vim25" + "inherited", "false")], default);
        System.Xml.Linq.XNamespace vim = "urn:vim25";
        var p = r.Elements(vim + "returnval").FirstOrDefault(e => e.Element(vim + "principal")?.Value == user);
        return p is null ? null : int.Parse(p.Element(vim + "roleId")!.Value, CultureInfo.InvariantCulture);
    }

    private static Task PowerOnAsync(CesoSession s, string vm) =>
        s.Soap!.InvokeTaskAsync(s.ServiceContent!.PropertyCollector, "PowerOnVM_Task", new MoRef("VirtualMachine", vm), [], default);

    [Fact]
    public async Task An_agent_accounts_write_fails_until_a_grant_works_during_it_and_fails_again_after_the_host_removed_it_at_expiry()
    {
        var (credential, root) = await SetUpAsync("expiring1");
        try
        {
            var vm = (await root.Inventory.GetVmsAsync()).OrderBy(v => v.Name, StringComparer.Ordinal).First(v => v.PowerState == Ceso.Engine.Model.CesoPowerState.PoweredOff);
            await using (var agent = await ConnectAsAgentAsync(credential))
            {
                Assert.Equal("NoPermission", (await Assert.ThrowsAsync<VimFaultException>(() => PowerOnAsync(agent, vm.Id))).FaultType);
            }

            var grant = Grant("expiring1", TimeSpan.FromMinutes(2), "StartVm", "KillVm");
            var (steps, _) = await new HostAgentGrants(root, _home).PlanGrantAsync(credential, grant, default);
            await Executor().ExecuteAsync(new Plan { Operation = "GrantAgentAccess", Host = root.Server, Steps = steps });

            Assert.Contains($"ceso-grant {grant.Id}", await HostFileAsync(root, HostAgentGrants.Crontab));
            Assert.Contains($"ceso-grant {grant.Id}", await HostFileAsync(root, HostAgentGrants.LocalSh));
            Assert.EndsWith("exit 0\n", await HostFileAsync(root, HostAgentGrants.LocalSh));
            await using (var agent = await ConnectAsAgentAsync(credential))
            {
                await PowerOnAsync(agent, vm.Id);
                await agent.Soap!.InvokeTaskAsync(agent.ServiceContent!.PropertyCollector, "PowerOffVM_Task", new MoRef("VirtualMachine", vm.Id), [], default);

                // Nothing due a minute before the expiry; at the expiry minute the host's crontab removes the permission.
                var early = TestBed.Run(Path.Combine(TestBed.RepoRoot, "testbed", "bin", "cesobed"),
                    ["cron-tick", "-state", bed.Info.StateDir, "-at", grant.ExpiresAt.AddMinutes(-1).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:00Z", CultureInfo.InvariantCulture)]);
                Assert.DoesNotContain(grant.Id, early.Output);
                var at = new DateTimeOffset((grant.ExpiresAt.UtcTicks + TimeSpan.TicksPerMinute - 1) / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, TimeSpan.Zero);
                var tick = TestBed.Run(Path.Combine(TestBed.RepoRoot, "testbed", "bin", "cesobed"),
                    ["cron-tick", "-state", bed.Info.StateDir, "-at", at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:00Z", CultureInfo.InvariantCulture)]);
                Assert.Contains($"0 /bin/sh /vmfs/volumes/", tick.Output);

                Assert.Equal("NoPermission", (await Assert.ThrowsAsync<VimFaultException>(() => PowerOnAsync(agent, vm.Id))).FaultType);
            }

            Assert.DoesNotContain(grant.Id, await HostFileAsync(root, HostAgentGrants.Crontab));
            Assert.DoesNotContain(grant.Id, await HostFileAsync(root, HostAgentGrants.LocalSh));
            Assert.NotEqual(0, (await root.Ssh!.RunAsync($"test -e /vmfs/volumes/*/.ceso-grant-{grant.Id}.sh")).ExitCode);
            Assert.Equal(-2, await RootRoleAsync(root, credential.User)); // back to read-only, not without any access
        }
        finally
        {
            await TearDownAsync(root, "expiring1");
        }
    }

    [Fact]
    public async Task Revoking_a_host_grant_removes_its_permission_crontab_and_boot_lines_at_once()
    {
        var (credential, root) = await SetUpAsync("revoked1");
        try
        {
            var vm = (await root.Inventory.GetVmsAsync()).OrderBy(v => v.Name, StringComparer.Ordinal).First(v => v.PowerState == Ceso.Engine.Model.CesoPowerState.PoweredOff);
            var grant = Grant("revoked1", TimeSpan.FromHours(1));
            var grants = new HostAgentGrants(root, _home);
            var (steps, _) = await grants.PlanGrantAsync(credential, grant, default);
            await Executor().ExecuteAsync(new Plan { Operation = "GrantAgentAccess", Host = root.Server, Steps = steps });
            var record = new HostGrantStore(_home).Read(grant.Id)!;
            Assert.Equal(HostAgentGrants.OperatorRole, record.Role);

            await Executor().ExecuteAsync(new Plan { Operation = "RevokeAgentAccess", Host = root.Server, Steps = await grants.PlanRevokeAsync(record, default) });

            await using var agent = await ConnectAsAgentAsync(credential);
            Assert.Equal("NoPermission", (await Assert.ThrowsAsync<VimFaultException>(() => PowerOnAsync(agent, vm.Id))).FaultType);
            Assert.DoesNotContain(grant.Id, await HostFileAsync(root, HostAgentGrants.Crontab));
            Assert.DoesNotContain(grant.Id, await HostFileAsync(root, HostAgentGrants.LocalSh));
            Assert.Null(new HostGrantStore(_home).Read(grant.Id));
            Assert.Equal(-2, await RootRoleAsync(root, credential.User));
        }
        finally
        {
            await TearDownAsync(root, "revoked1");
        }
    }

    [Fact]
    public async Task After_a_reboot_the_boot_line_removes_an_expired_grant_and_puts_back_the_crontab_line_of_a_running_one()
    {
        var (credential, root) = await SetUpAsync("rebooted1");
        try
        {
            var grant = Grant("rebooted1", TimeSpan.FromHours(1));
            var (steps, _) = await new HostAgentGrants(root, _home).PlanGrantAsync(credential, grant, default);
            await Executor().ExecuteAsync(new Plan { Operation = "GrantAgentAccess", Host = root.Server, Steps = steps });
            var record = new HostGrantStore(_home).Read(grant.Id)!;

            // A reboot loses the crontab; local.sh runs the script with "boot": not expired yet, so the line comes back.
            await root.Ssh!.RunAsync($": > {HostAgentGrants.Crontab}");
            Assert.Equal(0, (await root.Ssh.RunAsync($"/bin/sh {record.Script} boot")).ExitCode);
            Assert.Contains($"ceso-grant {grant.Id}", await HostFileAsync(root, HostAgentGrants.Crontab));
            Assert.NotEqual(-2, await RootRoleAsync(root, credential.User));

            // After a reboot past the expiry, the boot run removes the grant.
            await root.Ssh.RunAsync($"sed -i 's/^expires=.*/expires=0/' {record.Script}");
            Assert.Equal(0, (await root.Ssh.RunAsync($"/bin/sh {record.Script} boot")).ExitCode);
            Assert.Equal(-2, await RootRoleAsync(root, credential.User));
            Assert.DoesNotContain(grant.Id, await HostFileAsync(root, HostAgentGrants.Crontab));
            Assert.DoesNotContain(grant.Id, await HostFileAsync(root, HostAgentGrants.LocalSh));
        }
        finally
        {
            await TearDownAsync(root, "rebooted1");
        }
    }
}
