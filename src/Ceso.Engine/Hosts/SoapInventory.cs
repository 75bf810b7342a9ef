using Ceso.Engine.Model;
using Ceso.Engine.Soap;

namespace Ceso.Engine.Hosts;

/// <summary>
/// Inventory over the vSphere API. One container view over the root folder is made on first use and kept for the
/// session, so each later discovery is exactly one RetrievePropertiesEx whatever the number of VMs.
/// </summary>
public sealed class SoapInventory(string server, VimClient client, ServiceContent content) : IHostInventory
{
    private static readonly string[] ViewTypes = ["VirtualMachine", "Datastore", "HostSystem"];
    private readonly SemaphoreSlim _viewGate = new(1, 1);
    private MoRef? _view;

    /// <inheritdoc />
    public Transport Transport => Transport.Soap;

    /// <summary>The client (its call counts show the round trips made).</summary>
    public VimClient Client => client;

    /// <inheritdoc />
    public async Task<CesoHost> GetHostAsync(CancellationToken ct = default)
    {
        var objectSets = new List<ObjectSpec> { new(await ViewAsync(ct).ConfigureAwait(false), true) };
        var propSets = new List<PropertySpec> { new("HostSystem", ["summary"]) };
        if (content.LicenseManager is { } lm)
        {
            objectSets.Add(new ObjectSpec(lm, false));
            propSets.Add(new PropertySpec("LicenseManager", ["licenses"]));
        }

        var result = await client.RetrievePropertiesAsync(content.PropertyCollector, propSets, objectSets, ct).ConfigureAwait(false);
        var host = result.FirstOrDefault(o => o.Obj.Type == "HostSystem")
            ?? throw new CesoException("HostNotFound", CesoErrorKind.NotFound, $"{server} lists no HostSystem; is it an ESXi host?") { Host = server };
        var license = result.FirstOrDefault(o => o.Obj.Type == "LicenseManager")?.Properties.GetValueOrDefault("licenses")
            ?.AsList().Select(l => l.String("name")).FirstOrDefault(n => !string.IsNullOrEmpty(n));
        return InventoryMapper.Host(server, host.Properties["summary"], license);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<CesoDatastore>> GetDatastoresAsync(CancellationToken ct = default)
    {
        var result = await QueryAsync("Datastore", ["summary"], ct).ConfigureAwait(false);
        return result.Select(o => o.Properties.GetValueOrDefault("summary"))
            .Where(s => s is not null)
            .Select(s => new CesoDatastore
            {
                Server = server,
                Name = s!.String("name") ?? "",
                Type = InventoryMapper.DatastoreType(s.String("type") ?? ""),
                CapacityBytes = s.Long("capacity") ?? 0,
                FreeBytes = s.Long("freeSpace") ?? 0,
                Url = InventoryMapper.DatastoreUrl(s.String("url") ?? ""),
            })
            .OrderBy(d => d.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<CesoNetwork>> GetNetworksAsync(CancellationToken ct = default)
    {
        var result = await QueryAsync("HostSystem", ["config.network.portgroup"], ct).ConfigureAwait(false);
        return result.SelectMany(o => o.Properties.GetValueOrDefault("config.network.portgroup")?.AsList() ?? [])
            .Select(pg => new CesoNetwork
            {
                Server = server,
                Name = pg.String("spec.name") ?? "",
                VirtualSwitch = pg.String("spec.vswitchName") ?? "",
                VlanId = (int)(pg.Long("spec.vlanId") ?? 0),
            })
            .OrderBy(n => n.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<CesoVm>> GetVmsAsync(CancellationToken ct = default)
    {
        var result = await QueryAsync("VirtualMachine", InventoryMapper.VmProperties, ct).ConfigureAwait(false);
        return result.Select(o => InventoryMapper.Vm(server, o.Obj.Value, p => o.Properties.GetValueOrDefault(p)))
            .OrderBy(v => v.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <inheritdoc />
    public async Task<CesoVm?> GetVmByIdAsync(string id, CancellationToken ct = default) =>
        (await GetVmsAsync(ct).ConfigureAwait(false)).FirstOrDefault(v => v.Id == id);

    /// <inheritdoc />
    public async Task<IReadOnlyList<CesoFirewallRuleset>> GetFirewallAsync(CancellationToken ct = default)
    {
        var result = await QueryAsync("HostSystem", ["config.firewall"], ct).ConfigureAwait(false);
        return HostFirewall.FromVmodl(server, result.FirstOrDefault()?.Properties.GetValueOrDefault("config.firewall"));
    }

    private async Task<IReadOnlyList<ObjectContent>> QueryAsync(string type, IReadOnlyList<string> paths, CancellationToken ct)
    {
        var view = await ViewAsync(ct).ConfigureAwait(false);
        var result = await client.RetrievePropertiesAsync(content.PropertyCollector, [new PropertySpec(type, paths)], [new ObjectSpec(view, true)], ct)
            .ConfigureAwait(false);
        return result.Where(o => o.Obj.Type == type).ToList();
    }

    private async Task<MoRef> ViewAsync(CancellationToken ct)
    {
        if (_view is { } v)
        {
            return v;
        }

        await _viewGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _view ??= await client.CreateContainerViewAsync(content.ViewManager, content.RootFolder, ViewTypes, ct).ConfigureAwait(false);
            return _view.Value;
        }
        finally
        {
            _viewGate.Release();
        }
    }
}
