using Ceso.Engine.Configuration;
using Ceso.Engine.Connection;
using Ceso.Engine.Formats;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;

namespace Ceso.Engine.Templates;

/// <summary>
/// Test-CesoTemplate's host checks: finds the template (a registry name from config.yaml, else a VM), reads what the
/// checks need from the host — the inventory, the .vmx and whether each disk is there, all reads, through the
/// session's adapter, so they work on a free license and over SOAP and SSH alike — and judges them
/// (<see cref="TemplateChecks"/>). A template that is not ready is a result; only a template that cannot be checked
/// (no such VM, an unreadable .vmx) is an error.
/// </summary>
public sealed class TemplateChecker(CesoSession session, CesoHome home)
{
    /// <summary>Checks one template by registry name or VM name (or vmid).</summary>
    public async Task<TemplateReport> CheckAsync(string name, CancellationToken ct = default)
    {
        var server = session.Server;
        var config = CesoConfig.Load(home);
        var vms = await session.Inventory.GetVmsAsync(ct).ConfigureAwait(false);
        var entry = config.Template(name, server);
        string? registered = null;
        CesoVm vm;
        if (entry is not null)
        {
            registered = config.Templates.Keys.First(k => k.Equals(name, StringComparison.OrdinalIgnoreCase));
            vm = vms.FirstOrDefault(v => v.Id == entry.Vm) ?? vms.FirstOrDefault(v => v.Name == entry.Vm)
                ?? throw new CesoException("TemplateNotFound", CesoErrorKind.NotFound,
                    $"{CesoConfig.PathOf(home)} says template '{name}' is VM '{entry.Vm}', but {server} has no such VM. Fix the entry (Unregister-CesoTemplate, Register-CesoTemplate) or register the VM on the host.")
                { Target = name, Host = server };
        }
        else
        {
            vm = VmLookup.Find(vms, name, "TemplateNotFound", "template or VM", server);
            // A VM that exactly one registry entry for this server stands for records its result there too.
            var named = config.Templates.Where(t => (t.Value.Server is null || t.Value.Server.Equals(server, StringComparison.OrdinalIgnoreCase))
                                                    && (t.Value.Vm == vm.Name || t.Value.Vm == vm.Id)).ToList();
            registered = named.Count == 1 ? named[0].Key : null;
        }

        var facts = await ReadFactsAsync(vm, ct).ConfigureAwait(false);
        return new TemplateReport
        {
            Name = name,
            Vm = vm.Name,
            VmId = vm.Id,
            Server = server,
            Registered = registered,
            Checks = TemplateChecks.Evaluate(facts),
            CheckedAt = DateTimeOffset.UtcNow,
        };
    }

    /// <summary>Records the report's result and time in its registry entry (when it has one).</summary>
    public void Record(TemplateReport report)
    {
        if (report.Registered is { } name)
        {
            TemplateRegistry.RecordResult(home, name, report.Summary, report.CheckedAt);
        }
    }

    private async Task<TemplateFacts> ReadFactsAsync(CesoVm vm, CancellationToken ct)
    {
        var server = session.Server;
        if (vm.VmxPath is not { Length: > 0 } vmxPath)
        {
            throw new CesoException("VmxUnreadable", CesoErrorKind.InvalidState,
                $"{server} reports no .vmx file for '{vm.Name}' (id {vm.Id}), so Ceso cannot check it. Is the VM's datastore accessible (Get-CesoDatastore)?")
            { Target = vm.Name, Host = server };
        }

        VmxFile vmx;
        try
        {
            vmx = VmxFile.Parse(await session.Files.ReadTextAsync(DatastorePath.Parse(vmxPath), ct).ConfigureAwait(false));
        }
        catch (FormatException e)
        {
            throw new CesoException("VmxUnreadable", CesoErrorKind.InvalidState,
                $"Ceso cannot read {vmxPath} of '{vm.Name}' on {server}: {e.Message} Fix the line on the host (vi over SSH), then vim-cmd vmsvc/reload {vm.Id}.", e)
            { Target = vm.Name, Host = server };
        }

        var networks = await session.Inventory.GetNetworksAsync(ct).ConfigureAwait(false);
        var datastores = await session.Inventory.GetDatastoresAsync(ct).ConfigureAwait(false);
        var missing = new List<string>();
        foreach (var disk in vm.Disks)
        {
            if (disk.Path.Length == 0 || !await session.Files.ExistsAsync(DatastorePath.Parse(disk.Path), ct).ConfigureAwait(false))
            {
                missing.Add(disk.Path.Length == 0 ? $"disk {disk.Index} (no file)" : disk.Path);
            }
        }

        return new TemplateFacts(vm, vmx, networks, datastores, missing);
    }
}
