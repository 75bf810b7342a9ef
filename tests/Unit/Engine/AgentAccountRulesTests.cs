using Ceso.Engine.Hosts;
using Ceso.Engine.Operations;
using Ceso.Engine.Security;

namespace Ceso.Tests.Engine;

public sealed class AgentAccountRulesTests
{
    [Theory]
    [InlineData("claude", "ceso-claude")]
    [InlineData("Claude Code@work", "ceso-claude-code-work")]
    [InlineData("a-very-long-agent-name-that-goes-on-and-on", "ceso-a-very-long-agent-name-tha")]
    public void An_agents_esxi_user_is_ceso_and_its_name_in_characters_esxi_accepts(string agent, string user) =>
        Assert.Equal(user, HostAgentAccounts.UserFor(agent));

    [Fact]
    public void A_new_password_has_24_characters_of_four_classes_and_is_never_the_same()
    {
        var a = HostAgentAccounts.NewPassword();
        Assert.Equal(24, a.Length);
        Assert.Contains(a, char.IsAsciiLetterUpper);
        Assert.Contains(a, char.IsAsciiLetterLower);
        Assert.Contains(a, char.IsAsciiDigit);
        Assert.NotEqual(a, HostAgentAccounts.NewPassword());
    }

    [Fact]
    public void The_crontab_line_runs_the_removal_at_the_minute_after_the_expiry_in_utc()
    {
        var line = HostAgentGrants.CronLine("/vmfs/volumes/datastore1/.ceso-grant-g-1.sh", "g-1", new DateTimeOffset(2026, 12, 31, 23, 59, 30, TimeSpan.FromHours(1)));
        Assert.Equal("0 23 31 12 * /bin/sh /vmfs/volumes/datastore1/.ceso-grant-g-1.sh # ceso-grant g-1", line);
        Assert.StartsWith("5 14 1 12 *", HostAgentGrants.CronLine("/x.sh", "g-1", new DateTimeOffset(2026, 12, 1, 14, 5, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void A_grant_without_operations_gets_the_operator_role_with_every_operations_privileges()
    {
        var (role, privileges) = HostAgentGrants.RoleFor([]);
        Assert.Equal(HostAgentGrants.OperatorRole, role);
        Assert.Contains("VirtualMachine.Interact.PowerOn", privileges);
        Assert.Contains("VirtualMachine.State.CreateSnapshot", privileges);

        var (scoped, few) = HostAgentGrants.RoleFor(["StartVm", "KillVm"]);
        Assert.Equal("ceso-agent-killvm-startvm", scoped);
        Assert.Equal(["VirtualMachine.Interact.PowerOff", "VirtualMachine.Interact.PowerOn"], few);
    }

    [Fact]
    public void The_removal_script_gives_the_root_folder_back_read_only_and_removes_its_own_lines()
    {
        var record = new HostGrantRecord("g-1", "claude", "esx01", "ceso-claude", "ceso-agent-operator",
            [PermissionEntity.HostRoot, PermissionEntity.Vm("9", "web01")], "/vmfs/volumes/ds/.ceso-grant-g-1.sh", DateTimeOffset.FromUnixTimeSeconds(1800000000));
        var script = HostAgentGrants.Script(record, "0 1 2 3 * /bin/sh x # ceso-grant g-1");
        Assert.Contains("expires=1800000000", script);
        Assert.Contains("vim-cmd vimsvc/auth/entity_permission_add vim.Folder:ha-folder-root ceso-claude false ReadOnly true", script);
        Assert.Contains("vim-cmd vimsvc/auth/entity_permission_remove vim.VirtualMachine:9 ceso-claude false", script);
        Assert.Contains("sed -i '/ceso-grant g-1/d' /var/spool/cron/crontabs/root /etc/rc.local.d/local.sh", script);
        Assert.Contains("kill -HUP \"$(cat /var/run/crond.pid)\"", script);
    }
}
