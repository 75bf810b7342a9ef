using System.Numerics;

namespace Ceso.Engine.Model;

/// <summary>An IP pool as Get-CesoIPPool shows it: what it hands out and how much of it is leased.</summary>
public sealed record CesoIPPool
{
    /// <summary>The pool's name (what -IPPool takes).</summary>
    public required string Name { get; init; }
    /// <summary>The subnet in CIDR form, e.g. 10.0.0.0/24.</summary>
    public required string Subnet { get; init; }
    /// <summary>The ranges addresses are leased from, e.g. 10.0.0.50-10.0.0.99.</summary>
    public IReadOnlyList<string> Ranges { get; init; } = [];
    /// <summary>The gateway the guests get; null = the subnet's first host.</summary>
    public string? Gateway { get; init; }
    /// <summary>DNS servers the guests get.</summary>
    public IReadOnlyList<string> DnsServers { get; init; } = [];
    /// <summary>DNS search domains the guests get.</summary>
    public IReadOnlyList<string> SearchDomains { get; init; } = [];
    /// <summary>What the pool is for.</summary>
    public string? Description { get; init; }
    /// <summary>Addresses the ranges can hand out (reserved ones excluded).</summary>
    public BigInteger Size { get; init; }
    /// <summary>Addresses leased now.</summary>
    public int Used { get; init; }
    /// <summary>Size less the leases. Addresses that VMs use without a lease are skipped when leasing, but not counted here (that needs a host).</summary>
    public BigInteger Free { get; init; }
    /// <summary>When the pool was created.</summary>
    public DateTimeOffset Created { get; init; }
}

/// <summary>One leased address: which pool, which VM on which host, since when.</summary>
public sealed record CesoIPLease
{
    /// <summary>The pool it was leased from.</summary>
    public required string Pool { get; init; }
    /// <summary>The address, e.g. 10.0.0.50.</summary>
    public required string IPAddress { get; init; }
    /// <summary>The prefix length of the pool's subnet.</summary>
    public int PrefixLength { get; init; }
    /// <summary>The server (connection name) of the VM's host.</summary>
    public required string Server { get; init; }
    /// <summary>The VM's name.</summary>
    public required string VmName { get; init; }
    /// <summary>The VM's id on its host, once known (after the VM was created).</summary>
    public string? VmId { get; init; }
    /// <summary>When the address was leased.</summary>
    public DateTimeOffset Time { get; init; }

    /// <summary>The address in CIDR form, e.g. 10.0.0.50/24.</summary>
    public string Cidr => $"{IPAddress}/{PrefixLength}";
}

/// <summary>
/// An address for a VM from a pool, with the network settings the pool gives: what a lease took, or what a peek
/// (-WhatIf) would take.
/// </summary>
public sealed record CesoIPPoolAddress
{
    /// <summary>The pool.</summary>
    public required string Pool { get; init; }
    /// <summary>The address.</summary>
    public required string IPAddress { get; init; }
    /// <summary>The prefix length of the pool's subnet.</summary>
    public required int PrefixLength { get; init; }
    /// <summary>The pool's gateway; null = the subnet's first host.</summary>
    public string? Gateway { get; init; }
    /// <summary>The pool's DNS servers.</summary>
    public IReadOnlyList<string> DnsServers { get; init; } = [];
    /// <summary>The pool's search domains.</summary>
    public IReadOnlyList<string> SearchDomains { get; init; } = [];
    /// <summary>True when this address is leased; false for a peek.</summary>
    public bool Leased { get; init; }

    /// <summary>The address in CIDR form, e.g. 10.0.0.50/24.</summary>
    public string Cidr => $"{IPAddress}/{PrefixLength}";

    /// <inheritdoc />
    public override string ToString() => $"{Cidr} from pool '{Pool}'";
}
