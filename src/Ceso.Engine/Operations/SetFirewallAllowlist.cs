using System.Net;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;

namespace Ceso.Engine.Operations;

/// <summary>Set-CesoFirewallAllowlist: who may reach rulesets of the host firewall.</summary>
/// <param name="Rulesets">The ruleset ids (sshServer, vSphereClient, …).</param>
/// <param name="AllowAll">Any address may connect (the allowlist is kept but not applied).</param>
/// <param name="Entries">Otherwise: the addresses and CIDR networks allowed, replacing the current list.</param>
public sealed record FirewallAllowlistRequest(IReadOnlyList<string> Rulesets, bool AllowAll, IReadOnlyList<string> Entries);

/// <summary>
/// Plans allowlist changes, one step per ruleset (an undo that puts the old list back), and refuses any change that
/// would shut out the address this session is connected from: over SSH the client address the host sees
/// (<c>$SSH_CONNECTION</c>), over the API the address this machine uses towards the host.
/// </summary>
internal sealed class SetFirewallAllowlist(OperationContext context)
{
    public async Task<(Plan Plan, IReadOnlyList<CesoFirewallRuleset> Rulesets)> PlanAsync(FirewallAllowlistRequest request, CancellationToken ct)
    {
        var host = context.Host;
        var entries = request.Entries.Select(HostFirewall.Normalize).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (!request.AllowAll && entries.Count == 0)
        {
            throw context.Invalid("FirewallAllowlistEmpty",
                $"An empty allowlist would let nobody reach {string.Join(", ", request.Rulesets)} on {host}. Give -AllowedIPAddress with at least this machine's address, or -AllowAll.", host);
        }

        var all = await context.Session.Host.Inventory.GetFirewallAsync(ct).ConfigureAwait(false);
        var chosen = new List<CesoFirewallRuleset>();
        foreach (var name in request.Rulesets.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            chosen.Add(all.FirstOrDefault(r => r.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                ?? throw new CesoException("FirewallRulesetNotFound", CesoErrorKind.NotFound,
                    $"{host} has no firewall ruleset '{name}'. Ceso's own are {string.Join(" and ", HostFirewall.ControlRulesets)}; Get-CesoFirewallAllowlist -Ruleset * lists all.") { Target = name, Host = host });
        }

        if (!request.AllowAll)
        {
            foreach (var (ruleset, address, how) in await ConnectedFromAsync(ct).ConfigureAwait(false))
            {
                if (chosen.Any(r => r.Name == ruleset) && !HostFirewall.Allows(entries, address))
                {
                    throw new CesoException("FirewallLockout", CesoErrorKind.Security,
                        $"The new allowlist of {ruleset} on {host} does not include {address}, the address Ceso is connected from {how}: it would lock this session (and you) out, so nothing was changed. "
                        + $"Add it, e.g. -AllowedIPAddress {string.Join(",", entries.Append(address.ToString()))}.") { Target = ruleset, Host = host };
                }
            }
        }

        var steps = new List<PlanStep>();
        var notes = new List<string>();
        foreach (var current in chosen)
        {
            var wanted = request.AllowAll ? current.AllowedIPAddresses : entries;
            var same = current.AllowedAll == request.AllowAll
                && (request.AllowAll || (wanted.Count == current.AllowedIPAddresses.Count && wanted.All(e => current.AllowedIPAddresses.Contains(e, StringComparer.OrdinalIgnoreCase))));
            if (same)
            {
                continue;
            }

            if (!current.Enabled)
            {
                notes.Add($"{current.Name} is disabled on {host}: its allowlist applies once it is enabled");
            }

            var after = current with { AllowedAll = request.AllowAll, AllowedIPAddresses = wanted };
            var what = request.AllowAll ? "any address" : string.Join(", ", wanted);
            steps.Add(context.Step($"Allow {what} to reach {current.Name}", $"{host}/firewall/{current.Name}",
                new SetRulesetAllowlist(current, request.AllowAll, wanted),
                new SetRulesetAllowlist(after, current.AllowedAll, current.AllowedIPAddresses)));
        }

        var plan = context.Plan("SetFirewallAllowlist", null, steps, notes);
        return (plan, chosen);
    }

    // The addresses this session reaches the host from, per ruleset, with how it was learnt.
    private async Task<List<(string Ruleset, IPAddress Address, string How)>> ConnectedFromAsync(CancellationToken ct)
    {
        var result = new List<(string, IPAddress, string)>();
        var session = context.Session;
        if (session.Ssh is { } ssh)
        {
            var line = (await ssh.RunAsync("echo \"$SSH_CONNECTION\"", ct).ConfigureAwait(false)).EnsureSuccess(context.Host).Stdout.Trim();
            if (line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [var client, ..] && IPAddress.TryParse(client, out var a))
            {
                result.Add(("sshServer", a, "over SSH (as the host sees it)"));
            }
            else
            {
                throw new CesoException("FirewallClientUnknown", CesoErrorKind.HostError,
                    $"{context.Host} did not say which address this SSH session comes from ($SSH_CONNECTION is '{line}'), so Ceso cannot make sure the change does not lock it out; nothing was changed.") { Host = context.Host };
            }
        }

        if (session.Soap is not null && HostFirewall.LocalAddressTowards(session.Server, session.Profile.SoapPort) is { } local)
        {
            result.Add(("vSphereClient", local, "over the API (this machine's address towards the host; behind NAT the host sees another)"));
        }

        return result;
    }
}

/// <summary>The host firewall's allowlists, for the cmdlets.</summary>
public static class HostOperations
{
    /// <summary>Every ruleset of the host with its allowlist (reads only).</summary>
    public static Task<IReadOnlyList<CesoFirewallRuleset>> GetFirewallAsync(CesoSession session, CancellationToken ct = default) =>
        session.Host.Inventory.GetFirewallAsync(ct);

    /// <summary>Plans Set-CesoFirewallAllowlist (reads only); refuses a change that locks this session out.</summary>
    public static Task<(Plan Plan, IReadOnlyList<CesoFirewallRuleset> Rulesets)> PlanFirewallAsync(CesoSession session, CesoHome home, FirewallAllowlistRequest request, CancellationToken ct = default) =>
        new SetFirewallAllowlist(new OperationContext(session, home)).PlanAsync(request, ct);
}
