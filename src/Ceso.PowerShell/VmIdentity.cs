using Ceso.Engine.Model;

namespace Ceso.PowerShell;

/// <summary>
/// What <c>-Vm</c> binds to: a VM name or id (<c>-Vm web01</c>) or a Get-CesoVm result
/// (<c>Get-CesoVm web* | Stop-CesoVm</c>). PowerShell converts through the constructors. Names are exact, not wildcards:
/// a state-changing cmdlet acts only on the VMs it was given.
/// </summary>
public sealed class VmIdentity
{
    /// <summary>A VM name (or the host's id for it).</summary>
    public VmIdentity(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <summary>The VM a Get-CesoVm (or New-/Copy-CesoVm) result describes, on the server it came from.</summary>
    public VmIdentity(CesoVm vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        Name = vm.Name;
        Id = vm.Id;
        Server = vm.Server;
    }

    /// <summary>The VM name as given or as the host reported it.</summary>
    public string Name { get; }

    /// <summary>The host's id for the VM, when the identity came from a VM object.</summary>
    public string? Id { get; }

    /// <summary>The server the VM object came from, when the identity came from a VM object.</summary>
    public string? Server { get; }

    /// <summary>The VM name.</summary>
    public override string ToString() => Name;
}
