using Ceso.Engine.Backup;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;

namespace Ceso.Engine.Operations;

/// <summary>
/// Remove-CesoBackup as a plan: each backup that goes is one step (its manifest deleted: restic's forget), then one
/// step frees the data no remaining backup uses (prune, under the repository's exclusive lock; a prune interrupted at
/// any point loses nothing). A retention policy decides per VM which backups go; the plan's notes say why each kept
/// one stays, so -WhatIf shows the whole decision. The plan runs through the <see cref="PlanRunner"/> like every other
/// change, so it is confirmed per step and recorded in the audit log.
/// </summary>
public static class RemoveBackup
{
    /// <summary>
    /// The plan that removes <paramref name="ids"/> (ids or unique prefixes), or — with a <paramref name="policy"/> —
    /// what the policy does not keep among the backups <paramref name="scope"/> selects; and the decisions.
    /// </summary>
    public static async Task<(Plan Plan, IReadOnlyList<CesoBackupRetention> Decisions)> PlanAsync(OpenedRepository repo, IReadOnlyList<string>? ids, ForgetPolicy? policy,
        Func<BackupSnapshot, bool>? scope, bool prune, CancellationToken ct = default)
    {
        var all = await repo.Repository.ListSnapshotsAsync(ct).ConfigureAwait(false);
        var decisions = new List<CesoBackupRetention>();
        var remove = new List<BackupSnapshot>();
        if (policy is not null)
        {
            foreach (var d in policy.Apply(all.Where(s => scope?.Invoke(s) ?? true)))
            {
                decisions.Add(new CesoBackupRetention
                {
                    Backup = await BackupOperations.DescribeAsync(repo, d.Snapshot.Id, ct).ConfigureAwait(false),
                    Action = d.Keep ? "Keep" : "Remove",
                    Reasons = d.Reasons,
                });
                if (!d.Keep)
                {
                    remove.Add(d.Snapshot);
                }
            }
        }
        else
        {
            foreach (var id in ids ?? [])
            {
                var m = await repo.Repository.LoadSnapshotAsync(id, ct).ConfigureAwait(false); // unknown or ambiguous: an error naming it
                var s = all.First(x => x.Id == m.Id);
                if (!remove.Contains(s))
                {
                    remove.Add(s);
                    decisions.Add(new CesoBackupRetention { Backup = await BackupOperations.DescribeAsync(repo, s.Id, ct).ConfigureAwait(false), Action = "Remove" });
                }
            }
        }

        var location = repo.Repository.Backend.Location;
        var steps = remove.OrderBy(s => s.Time).Select(s => new PlanStep
        {
            Title = $"Remove backup {s.ShortId} of '{s.VmName}' ({s.Time:u}, {s.Mode.ToString().ToLowerInvariant()})",
            Target = $"{repo.Name ?? location}/{s.ShortId}",
            Transport = "local",
            Command = $"delete snapshots/{s.Id} in {location}",
            Execute = ct2 => repo.Repository.ForgetAsync([s.Id], ct2),
        }).ToList();
        if (prune && steps.Count > 0)
        {
            steps.Add(new PlanStep
            {
                Title = $"Free the data no remaining backup in {repo.Label} uses",
                Target = repo.Name ?? location,
                Transport = "local",
                Command = $"prune {location} (exclusive lock; new index written before any pack is deleted)",
                Execute = async ct2 => await repo.Repository.PruneAsync(ct2).ConfigureAwait(false),
            });
        }

        var notes = decisions.Where(d => d.Action == "Keep")
            .Select(d => $"keep {d.Backup.ShortId} of '{d.Backup.Vm}' ({d.Backup.Time:u}): {string.Join(", ", d.Reasons)}").ToList();
        return (new Plan { Operation = "RemoveBackup", Host = repo.Name ?? location, Steps = steps, Notes = notes }, decisions);
    }
}
