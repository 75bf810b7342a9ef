using System.Globalization;

namespace Ceso.Engine.Backup;

/// <summary>
/// Which snapshots to keep, with restic's <c>forget</c> semantics, applied to each VM (grouped by VM id) on its own:
/// snapshots are walked newest first; each rule keeps the newest snapshot of each of its last N distinct periods (hour,
/// day, ISO week, month, year — in UTC; <see cref="KeepLast"/>: each snapshot is its own period). A snapshot kept by
/// any rule is kept, with every rule that kept it as a reason. A null count disables a rule; -1 means unlimited.
/// </summary>
public sealed record ForgetPolicy
{
    /// <summary>Keep the last N snapshots.</summary>
    public int? KeepLast { get; init; }

    /// <summary>Keep the last snapshot of each of the last N hours.</summary>
    public int? KeepHourly { get; init; }

    /// <summary>Keep the last snapshot of each of the last N days.</summary>
    public int? KeepDaily { get; init; }

    /// <summary>Keep the last snapshot of each of the last N ISO weeks.</summary>
    public int? KeepWeekly { get; init; }

    /// <summary>Keep the last snapshot of each of the last N months.</summary>
    public int? KeepMonthly { get; init; }

    /// <summary>Keep the last snapshot of each of the last N years.</summary>
    public int? KeepYearly { get; init; }

    /// <summary>True when no rule is set (applying such a policy is refused: it would forget everything).</summary>
    public bool IsEmpty => KeepLast is null && KeepHourly is null && KeepDaily is null && KeepWeekly is null && KeepMonthly is null && KeepYearly is null;

    /// <summary>
    /// The decision for every snapshot: kept (with reasons) or to forget. Pure: touches no repository. Decisions come
    /// grouped by VM id, newest first within a VM.
    /// </summary>
    public IReadOnlyList<ForgetDecision> Apply(IEnumerable<BackupSnapshot> snapshots)
    {
        if (IsEmpty) throw BackupErrors.Invalid("A forget policy needs at least one Keep rule; with none every snapshot would be forgotten.");
        var rules = new (string Name, int? Count, Func<DateTimeOffset, string> Period)[]
        {
            ("last", KeepLast, _ => ""),
            ("hourly", KeepHourly, t => t.UtcDateTime.ToString("yyyy-MM-dd HH", CultureInfo.InvariantCulture)),
            ("daily", KeepDaily, t => t.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
            ("weekly", KeepWeekly, t => $"{ISOWeek.GetYear(t.UtcDateTime)}-W{ISOWeek.GetWeekOfYear(t.UtcDateTime):00}"),
            ("monthly", KeepMonthly, t => t.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture)),
            ("yearly", KeepYearly, t => t.UtcDateTime.ToString("yyyy", CultureInfo.InvariantCulture)),
        };
        foreach (var r in rules)
        {
            if (r.Count is < -1) throw BackupErrors.Invalid($"Keep {r.Name} is {r.Count}; use a count of 0 or more, or -1 for unlimited.");
        }

        var decisions = new List<ForgetDecision>();
        foreach (var vm in snapshots.GroupBy(s => s.VmId, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var remaining = rules.Select(r => r.Count ?? 0).ToArray();
            var last = new string?[rules.Length];
            foreach (var snap in vm.OrderByDescending(s => s.Time).ThenByDescending(s => s.Id, StringComparer.Ordinal))
            {
                var reasons = new List<string>();
                for (var i = 0; i < rules.Length; i++)
                {
                    if (rules[i].Count is null || remaining[i] == 0) continue;
                    var period = i == 0 ? snap.Id : rules[i].Period(snap.Time);
                    if (period == last[i]) continue;
                    last[i] = period;
                    if (remaining[i] > 0) remaining[i]--;
                    reasons.Add(rules[i].Name);
                }

                decisions.Add(new ForgetDecision(snap, reasons.Count > 0, reasons));
            }
        }

        return decisions;
    }
}

/// <summary>One snapshot's fate under a <see cref="ForgetPolicy"/>.</summary>
/// <param name="Snapshot">The snapshot.</param>
/// <param name="Keep">True when some rule keeps it.</param>
/// <param name="Reasons">The rules that keep it (<c>last</c>, <c>hourly</c>, <c>daily</c>, <c>weekly</c>, <c>monthly</c>, <c>yearly</c>).</param>
public sealed record ForgetDecision(BackupSnapshot Snapshot, bool Keep, IReadOnlyList<string> Reasons);
