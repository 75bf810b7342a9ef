using Ceso.Engine;
using Ceso.Engine.Backup;

namespace Ceso.Tests.Backup;

public sealed class ForgetPolicyTests
{
    private static int _n;

    private static BackupSnapshot Snap(string time, string vmId = "vm-a") =>
        new($"{Interlocked.Increment(ref _n):x8}".PadRight(64, '0'), DateTimeOffset.Parse(time + "Z", System.Globalization.CultureInfo.InvariantCulture),
            "name-" + vmId, vmId, "esx01", BackupMode.Cold, [], 1, 1 << 30, 1 << 20, "ws");

    private static Dictionary<string, string> Kept(ForgetPolicy policy, params BackupSnapshot[] snaps) =>
        policy.Apply(snaps).Where(d => d.Keep).ToDictionary(d => d.Snapshot.Time.UtcDateTime.ToString("yyyy-MM-dd HH:mm"), d => string.Join(",", d.Reasons));

    [Fact]
    public void Keep_last_keeps_the_newest_n()
    {
        var kept = Kept(new ForgetPolicy { KeepLast = 2 },
            Snap("2026-11-01T10:00"), Snap("2026-11-02T10:00"), Snap("2026-11-03T10:00"), Snap("2026-11-04T10:00"));

        Assert.Equal(new Dictionary<string, string> { ["2026-11-04 10:00"] = "last", ["2026-11-03 10:00"] = "last" }, kept);
    }

    [Fact]
    public void Keep_daily_keeps_the_newest_snapshot_of_each_of_the_last_n_days_that_have_one()
    {
        var kept = Kept(new ForgetPolicy { KeepDaily = 3 },
            Snap("2026-11-01T08:00"), Snap("2026-11-01T20:00"), Snap("2026-11-03T08:00"), Snap("2026-11-03T09:00"),
            Snap("2026-11-07T23:59"), Snap("2026-10-30T12:00"));

        // Days without a snapshot (11-02, 11-04..06) do not count: restic counts periods that have snapshots.
        Assert.Equal(["2026-11-01 20:00", "2026-11-03 09:00", "2026-11-07 23:59"], kept.Keys.Order());
        Assert.All(kept.Values, r => Assert.Equal("daily", r));
    }

    [Fact]
    public void A_snapshot_kept_by_several_rules_lists_every_reason()
    {
        var policy = new ForgetPolicy { KeepLast = 1, KeepDaily = 2, KeepWeekly = 2, KeepMonthly = 2, KeepYearly = 1 };
        var decisions = policy.Apply([Snap("2026-10-15T10:00"), Snap("2026-11-10T10:00"), Snap("2026-11-16T10:00"), Snap("2026-11-16T12:00")]);

        var byTime = decisions.ToDictionary(d => d.Snapshot.Time.UtcDateTime.ToString("MM-dd HH"), d => string.Join(",", d.Reasons));
        Assert.Equal("last,daily,weekly,monthly,yearly", byTime["11-16 12"]);
        Assert.Equal("", byTime["11-16 10"]); // same day, week, month and year as a newer one
        Assert.Equal("daily,weekly", byTime["11-10 10"]);
        Assert.Equal("monthly", byTime["10-15 10"]);
        Assert.Equal(4, decisions.Count);
    }

    [Fact]
    public void Hourly_rule_separates_hours_in_utc()
    {
        var kept = Kept(new ForgetPolicy { KeepHourly = 2 }, Snap("2026-11-01T10:05"), Snap("2026-11-01T10:55"), Snap("2026-11-01T11:01"), Snap("2026-11-01T09:59"));

        Assert.Equal(["2026-11-01 10:55", "2026-11-01 11:01"], kept.Keys.Order());
    }

    [Fact]
    public void Weeks_are_iso_weeks_so_the_turn_of_the_year_is_one_week()
    {
        // 2026-12-31 is a Thursday and 2027-01-01 a Friday: both in ISO week 2026-W53.
        var kept = Kept(new ForgetPolicy { KeepWeekly = 1 }, Snap("2026-12-31T10:00"), Snap("2027-01-01T10:00"));

        Assert.Equal(["2027-01-01 10:00"], kept.Keys);
    }

    [Fact]
    public void Minus_one_keeps_every_period()
    {
        var kept = Kept(new ForgetPolicy { KeepMonthly = -1 }, Snap("2024-01-05T00:00"), Snap("2025-03-01T00:00"), Snap("2025-03-02T00:00"), Snap("2026-11-01T00:00"));

        Assert.Equal(["2024-01-05 00:00", "2025-03-02 00:00", "2026-11-01 00:00"], kept.Keys.Order());
    }

    [Fact]
    public void Each_vm_is_judged_on_its_own()
    {
        var decisions = new ForgetPolicy { KeepLast = 1 }.Apply([Snap("2026-11-01T10:00", "a"), Snap("2026-11-02T10:00", "a"), Snap("2026-10-01T10:00", "b")]);

        Assert.Equal(["2026-10-01", "2026-11-02"], decisions.Where(d => d.Keep).Select(d => d.Snapshot.Time.UtcDateTime.ToString("yyyy-MM-dd")).Order());
        Assert.Single(decisions, d => !d.Keep);
    }

    [Fact]
    public void A_policy_without_rules_is_refused_rather_than_forgetting_everything()
    {
        var ex = Assert.Throws<CesoException>(() => new ForgetPolicy().Apply([Snap("2026-11-01T10:00")]));
        Assert.Equal(CesoErrorKind.InvalidArgument, ex.Kind);
        Assert.Throws<CesoException>(() => new ForgetPolicy { KeepLast = -2 }.Apply([]));
    }

    [Fact]
    public void Zero_counts_keep_nothing_by_that_rule()
    {
        var kept = Kept(new ForgetPolicy { KeepLast = 0, KeepDaily = 1 }, Snap("2026-11-01T10:00"), Snap("2026-11-01T11:00"));

        Assert.Equal(new Dictionary<string, string> { ["2026-11-01 11:00"] = "daily" }, kept);
    }
}
