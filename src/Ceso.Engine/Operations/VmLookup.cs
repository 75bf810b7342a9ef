using Ceso.Engine.Hosts;
using Ceso.Engine.Model;

namespace Ceso.Engine.Operations;

/// <summary>How an operation finds the VM a request names, and reads it again after a plan ran.</summary>
internal static class VmLookup
{
    /// <summary>
    /// The VM with this id, else the one VM with exactly this name. Names are case-sensitive on ESXi and hostd allows
    /// two VMs with one name, so an ambiguous name is refused (pipe the Get-CesoVm result, which carries the id).
    /// </summary>
    /// <param name="vms">The host's VMs.</param>
    /// <param name="nameOrId">What the request says.</param>
    /// <param name="errorId">The error id when nothing matches (VmNotFound, TemplateNotFound).</param>
    /// <param name="what">What is looked for, in words ("VM", "template").</param>
    /// <param name="host">The host, for the message.</param>
    public static CesoVm Find(IReadOnlyList<CesoVm> vms, string nameOrId, string errorId, string what, string host)
    {
        if (vms.FirstOrDefault(v => v.Id == nameOrId) is { } byId)
        {
            return byId;
        }

        var named = vms.Where(v => v.Name == nameOrId).ToList();
        return named.Count switch
        {
            1 => named[0],
            0 => throw new CesoException(errorId, CesoErrorKind.NotFound,
                $"No {what} named '{nameOrId}' on {host}{Similar(vms, nameOrId)}. List them with Get-CesoVm.") { Target = nameOrId, Host = host },
            _ => throw new CesoException("AmbiguousVmName", CesoErrorKind.InvalidArgument,
                $"{named.Count} VMs on {host} are named '{nameOrId}' (ids {string.Join(", ", named.Select(v => v.Id))}); give the id, or pipe the one you mean: Get-CesoVm -Id {named[0].Id} | …")
            { Target = nameOrId, Host = host },
        };
    }

    /// <summary>Reads the host's VMs and finds the one <paramref name="nameOrId"/> names (<see cref="Find"/>).</summary>
    public static async Task<CesoVm> FindAsync(OperationContext context, string nameOrId, CancellationToken ct) =>
        Find(await context.Session.Inventory.GetVmsAsync(ct).ConfigureAwait(false), nameOrId, "VmNotFound", "VM", context.Host);

    /// <summary>
    /// Reads a VM again after a plan ran. A vmid (digits, as hostd's ids are) is read alone first, so re-reading the
    /// VM a plan made, or polling one during a shutdown, does not list every VM over SSH; a name, or an id the host
    /// does not know, is looked up in the listing as before.
    /// </summary>
    public static async Task<CesoVm?> RefreshAsync(IHostInventory inventory, string nameOrId, CancellationToken ct)
    {
        if (nameOrId.Length > 0 && nameOrId.All(char.IsAsciiDigit) && await inventory.GetVmByIdAsync(nameOrId, ct).ConfigureAwait(false) is { } byId)
        {
            return byId;
        }

        return (await inventory.GetVmsAsync(ct).ConfigureAwait(false)).FirstOrDefault(v => v.Id == nameOrId || v.Name == nameOrId);
    }

    private static string Similar(IReadOnlyList<CesoVm> vms, string name) =>
        vms.FirstOrDefault(v => v.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) is { } v ? $" (names are case-sensitive: did you mean '{v.Name}'?)" : "";
}
