namespace Ceso.Engine.CloudInit;

/// <summary>What a new or re-addressed VM should get through cloud-init's VMware guestinfo datasource.</summary>
public sealed record GuestInfoRequest
{
    /// <summary>The VM's name; the hostname defaults to it.</summary>
    public required string VmName { get; init; }

    /// <summary>Hostname (a DNS label); null = the VM name.</summary>
    public string? Hostname { get; init; }

    /// <summary>
    /// cloud-init instance-id; a new one for every VM (a copy must never reuse its source's). Null: the planner derives
    /// one from the plan's identity seed (GuestInfoBuilder alone makes a random one).
    /// </summary>
    public string? InstanceId { get; init; }

    /// <summary>Static addresses in CIDR form (IPv4 and/or IPv6). Empty = DHCP.</summary>
    public IReadOnlyList<string> IPAddresses { get; init; } = [];

    /// <summary>Gateways, at most one per address family; a missing one defaults to the subnet's first host.</summary>
    public IReadOnlyList<string> Gateways { get; init; } = [];

    /// <summary>DNS servers.</summary>
    public IReadOnlyList<string> DnsServers { get; init; } = [];

    /// <summary>DNS search domains.</summary>
    public IReadOnlyList<string> SearchDomains { get; init; } = [];

    /// <summary>SSH public keys (OpenSSH one-line form) for the default user.</summary>
    public IReadOnlyList<string> SshKeys { get; init; } = [];

    /// <summary>The MAC address of the NIC to configure; null matches the first ethernet by name (en*/eth*).</summary>
    public string? MacAddress { get; init; }

    /// <summary>Extra user-data (cloud-config or a script) sent alongside Ceso's cloud-config in a MIME multipart.</summary>
    public string? ExtraUserData { get; init; }
}

/// <summary>The .vmx/extraConfig entries to set, and the decisions that -WhatIf should show.</summary>
/// <param name="ExtraConfig">guestinfo.metadata, guestinfo.userdata and their .encoding keys.</param>
/// <param name="Notes">Defaults chosen for the user, e.g. "gateway 10.0.0.1 (first host of 10.0.0.0/24)".</param>
/// <param name="Hostname">The hostname the guest will get.</param>
/// <param name="InstanceId">The instance-id the guest will get.</param>
public sealed record GuestInfo(IReadOnlyDictionary<string, string> ExtraConfig, IReadOnlyList<string> Notes, string Hostname, string InstanceId);
