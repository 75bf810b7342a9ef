using System.Management.Automation;
using Ceso.Engine;
using Ceso.Engine.Model;
using Ceso.Engine.State;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Creates an IP pool (a subnet and the ranges to lease from, with gateway, DNS servers and search domains) that -IPPool of New-, Copy-, Restore- and Set-CesoVm leases addresses from.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "CesoIPPool", SupportsShouldProcess = true)]
[OutputType(typeof(CesoIPPool))]
public sealed class NewCesoIPPoolCommand : CesoCmdlet
{
    /// <summary>The pool's name: letters, digits, '.', '_' and '-'.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The subnet in CIDR form, as its network address: 10.0.0.0/24, fd00:10::/64.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Subnet { get; set; } = "";

    /// <summary>Ranges to lease from, START-END or one address each, inside the subnet. Default: the whole subnet.</summary>
    [Parameter(Position = 2)]
    [ValidateNotNullOrEmpty]
    public string[]? Range { get; set; }

    /// <summary>The gateway the VMs get, inside the subnet. Default: the subnet's first host.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Gateway { get; set; }

    /// <summary>DNS servers the VMs get.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? DnsServer { get; set; }

    /// <summary>DNS search domains the VMs get.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? SearchDomain { get; set; }

    /// <summary>What the pool is for.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Description { get; set; }

    /// <summary>Checks the pool, asks, creates it and writes it.</summary>
    protected override void EndProcessing()
    {
        IpPoolSpec spec;
        try
        {
            spec = IpPoolSpec.Parse(Name, Subnet, Range, Gateway, DnsServer, SearchDomain, Description);
        }
        catch (CesoException e)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(e, Name));
            return;
        }

        var store = new IpPoolStore(Home);
        var what = $"Create IP pool '{spec.Name}': {spec.Subnet}, range {string.Join(", ", spec.Ranges)} ({spec.Size} addresses), gateway {spec.Gateway?.ToString() ?? "the first host"}";
        if (!ShouldProcess(store.FilePath, what) || !AuthorizeLocalChange("NewIPPool", store.FilePath, what, Name))
        {
            return;
        }

        if (TryRunEngine(ct => store.CreateAsync(spec, ct), Name, out var pool))
        {
            WriteObject(pool);
        }
    }
}
