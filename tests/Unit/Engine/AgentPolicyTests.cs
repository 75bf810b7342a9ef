using Ceso.Engine.Connection;
using Ceso.Engine.Planning;
using Ceso.Engine.Security;

namespace Ceso.Tests.Engine;

/// <summary>Restricted mode: the plan runner refuses an agent's plan without a grant before its first step, and grants allow what they name.</summary>
public sealed class AgentPolicyTests : IDisposable
{
    private readonly CesoHome _home = new(Directory.CreateTempSubdirectory("ceso-agent-").FullName);
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private static readonly AuditActor Agent = new("alice", "claude");
    private static readonly AuditActor Person = new("alice", null);

    public void Dispose() => Directory.Delete(_home.Path, true);

    private static Plan PlanOf(List<string> ran, string operation = "CloneVm", string vm = "web01", string host = "esx01", string command = "vmkfstools -i a b") => new()
    {
        Operation = operation,
        Host = host,
        Vm = vm,
        Steps =
        [
            new PlanStep
            {
                Title = "copy", Target = $"{host}/{vm}", Transport = "ssh", Command = command,
                Execute = _ => { ran.Add(command); return Task.CompletedTask; },
            },
        ],
    };

    private PlanRunner Runner(AuditActor actor) => PlanRunner.Open(_home, new Redactor(), actor, _clock);

    private AgentGrant Grant(string? plan = null, string[]? vms = null, string[]? ops = null, string? server = null, TimeSpan? duration = null, string agent = "claude")
    {
        var now = _clock.GetUtcNow();
        var g = new AgentGrant(AgentGrantStore.NewId(), agent, "alice", now, now + (duration ?? TimeSpan.FromHours(1)), server, vms ?? [], ops ?? [], plan, null, null);
        new AgentGrantStore(_home).Add(g);
        return g;
    }

    [Fact]
    public async Task A_person_runs_plans_without_grants()
    {
        var ran = new List<string>();
        await Runner(Person).RunAsync(PlanOf(ran));
        Assert.Single(ran);
        Assert.False(File.Exists(Path.Combine(_home.Path, "agents", "grants.db")) && new AgentGrantStore(_home).List().Count > 0);
    }

    [Fact]
    public async Task An_agent_without_a_grant_is_refused_before_the_first_step_with_the_digest_and_the_command_to_allow_it()
    {
        var ran = new List<string>();
        var plan = PlanOf(ran);
        var e = await Assert.ThrowsAsync<AgentRestrictedException>(() => Runner(Agent).RunAsync(plan));

        Assert.Empty(ran);
        Assert.Equal("AgentRestricted", e.ErrorId);
        var digest = PlanRunner.Digest(plan);
        Assert.Contains(digest, e.Message);
        Assert.Contains($"Grant-CesoAgentAccess -Agent 'claude' -Plan {digest} -Duration 1h", e.Message);
        var record = Assert.Single(AuditLog.Open(_home, new Redactor()).Read());
        Assert.Equal(("refused", "claude", digest, "local"), (record.Result, record.Agent, record.Plan, record.Transport));
    }

    [Fact]
    public async Task A_plan_grant_allows_exactly_that_plan_once()
    {
        var ran = new List<string>();
        var plan = PlanOf(ran);
        var grant = Grant(plan: PlanRunner.Digest(plan));

        await Assert.ThrowsAsync<AgentRestrictedException>(() => Runner(Agent).RunAsync(PlanOf(ran, command: "vmkfstools -i a c")));
        Assert.Empty(ran);

        // The same request planned again gives the same digest, so the approved run goes through, once.
        await Runner(Agent).RunAsync(PlanOf(ran));
        Assert.Single(ran);
        await Assert.ThrowsAsync<AgentRestrictedException>(() => Runner(Agent).RunAsync(PlanOf(ran)));
        Assert.Single(ran);

        var stored = Assert.Single(new AgentGrantStore(_home).List());
        Assert.Equal(AgentGrantStatus.Used, stored.StatusAt(_clock.GetUtcNow()));
        var results = AuditLog.Open(_home, new Redactor()).Read().Select(r => r.Result).ToList();
        Assert.Equal(["refused", "granted", "ok", "refused"], results);
        Assert.Contains(grant.Id, AuditLog.Open(_home, new Redactor()).Read().Single(r => r.Result == "granted").Command);
    }

    [Fact]
    public async Task A_scoped_grant_allows_its_operations_vms_and_host_until_it_expires()
    {
        var ran = new List<string>();
        Grant(vms: ["web*"], ops: ["CloneVm", "StartVm"], server: "esx01", duration: TimeSpan.FromMinutes(30));

        await Runner(Agent).RunAsync(PlanOf(ran, vm: "web07"));
        await Runner(Agent).RunAsync(PlanOf(ran, operation: "StartVm", vm: "WEB01"));
        Assert.Equal(2, ran.Count);

        await Assert.ThrowsAsync<AgentRestrictedException>(() => Runner(Agent).RunAsync(PlanOf(ran, operation: "RemoveVm")));
        await Assert.ThrowsAsync<AgentRestrictedException>(() => Runner(Agent).RunAsync(PlanOf(ran, vm: "db01")));
        await Assert.ThrowsAsync<AgentRestrictedException>(() => Runner(Agent).RunAsync(PlanOf(ran, host: "esx02")));
        await Assert.ThrowsAsync<AgentRestrictedException>(() => Runner(new AuditActor("alice", "other")).RunAsync(PlanOf(ran)));
        Assert.Equal(2, ran.Count);

        _clock.Advance(TimeSpan.FromMinutes(31));
        await Assert.ThrowsAsync<AgentRestrictedException>(() => Runner(Agent).RunAsync(PlanOf(ran)));
        Assert.Equal(2, ran.Count);
    }

    [Fact]
    public async Task A_revoked_grant_allows_nothing_and_an_agent_may_revoke_but_never_grant()
    {
        var ran = new List<string>();
        var g = Grant();
        Assert.Single(new AgentGrantStore(_home).Revoke("claude", null, _clock.GetUtcNow()));
        await Assert.ThrowsAsync<AgentRestrictedException>(() => Runner(Agent).RunAsync(PlanOf(ran)));

        await Runner(Agent).RunAsync(PlanOf(ran, operation: "RevokeAgentAccess"));
        Grant();
        await Assert.ThrowsAsync<AgentRestrictedException>(() => Runner(Agent).RunAsync(PlanOf(ran, operation: "GrantAgentAccess")));
        Assert.Equal(["vmkfstools -i a b"], ran);
        Assert.Equal(AgentGrantStatus.Revoked, new AgentGrantStore(_home).List().Single(x => x.Id == g.Id).StatusAt(_clock.GetUtcNow()));
    }

    [Fact]
    public async Task Two_runs_racing_for_one_plan_grant_get_it_once()
    {
        var ran = new List<string>();
        var plan = PlanOf(ran);
        Grant(plan: PlanRunner.Digest(plan));
        var store = new AgentGrantStore(_home);
        var digest = PlanRunner.Digest(plan);
        var wins = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            new AgentGrantStore(_home).TryUse("claude", "CloneVm", "esx01", "web01", digest, _clock.GetUtcNow()) is not null)));
        Assert.Equal(1, wins.Count(w => w));
        Assert.Equal(AgentGrantStatus.Used, store.List().Single().StatusAt(_clock.GetUtcNow()));
    }

    [Fact]
    public void Wildcards_match_like_powershell_without_brackets()
    {
        Assert.True(AgentGrant.Matches("web*", "WEB01"));
        Assert.True(AgentGrant.Matches("w?b01", "web01"));
        Assert.False(AgentGrant.Matches("web*", "db-web01"));
        Assert.False(AgentGrant.Matches("web.01", "webX01"));
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
