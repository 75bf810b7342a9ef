using Ceso.Engine.Model;

namespace Ceso.Engine.Hosts;

/// <summary>Reads what is on a host. Two implementations, one per transport, return the same objects for the same host.</summary>
public interface IHostInventory
{
    /// <summary>Which transport answers.</summary>
    Transport Transport { get; }

    /// <summary>The host itself.</summary>
    Task<CesoHost> GetHostAsync(CancellationToken ct = default);

    /// <summary>All datastores.</summary>
    Task<IReadOnlyList<CesoDatastore>> GetDatastoresAsync(CancellationToken ct = default);

    /// <summary>All standard-switch portgroups.</summary>
    Task<IReadOnlyList<CesoNetwork>> GetNetworksAsync(CancellationToken ct = default);

    /// <summary>All VMs (SOAP: one property-collector round trip for all of them).</summary>
    Task<IReadOnlyList<CesoVm>> GetVmsAsync(CancellationToken ct = default);

    /// <summary>
    /// One VM by its id (the vmid), or null when the host has none with that id. For re-reading a VM a plan just
    /// made or changed: over SSH it reads that VM alone (one command, 4 vim-cmd calls instead of 4 per VM); over SOAP
    /// it is the listing's one round trip.
    /// </summary>
    Task<CesoVm?> GetVmByIdAsync(string id, CancellationToken ct = default);

    /// <summary>The host firewall's rulesets with their allowlists (API: config.firewall; SSH: two esxcli commands).</summary>
    Task<IReadOnlyList<CesoFirewallRuleset>> GetFirewallAsync(CancellationToken ct = default);
}

/// <summary>How Ceso talks to a host.</summary>
public enum Transport
{
    /// <summary>SOAP when reachable, SSH otherwise.</summary>
    Auto,
    /// <summary>The vSphere SOAP API only.</summary>
    Soap,
    /// <summary>SSH (vim-cmd, esxcli, vmkfstools) only.</summary>
    Ssh,
}
