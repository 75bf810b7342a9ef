namespace Ceso.Engine.Model;

/// <summary>
/// One host firewall ruleset and who may reach it: the SSH server (<c>sshServer</c>) and the API (<c>vSphereClient</c>,
/// TCP 443/902) are the ones Ceso itself needs. Read by Get-CesoFirewallAllowlist, changed by Set-CesoFirewallAllowlist.
/// </summary>
public sealed record CesoFirewallRuleset
{
    /// <summary>The host.</summary>
    public required string Server { get; init; }

    /// <summary>The ruleset id (sshServer, vSphereClient, …), as esxcli names it.</summary>
    public required string Name { get; init; }

    /// <summary>Whether the ruleset is enabled (a disabled ruleset lets nobody in).</summary>
    public bool Enabled { get; init; }

    /// <summary>True when any address may connect (the allowlist below is then not applied).</summary>
    public bool AllowedAll { get; init; }

    /// <summary>The addresses and networks (CIDR) allowed when <see cref="AllowedAll"/> is false.</summary>
    public IReadOnlyList<string> AllowedIPAddresses { get; init; } = [];

    /// <summary>The ruleset id.</summary>
    public override string ToString() => Name;
}
