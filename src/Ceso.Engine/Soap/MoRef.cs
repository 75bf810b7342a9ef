namespace Ceso.Engine.Soap;

/// <summary>A managed object reference (<c>VirtualMachine:vm-42</c>; on a real host the value of a VM is its vmid).</summary>
public readonly record struct MoRef(string Type, string Value)
{
    /// <inheritdoc />
    public override string ToString() => $"{Type}:{Value}";
}

/// <summary>The parts of the ServiceContent that Ceso uses.</summary>
public sealed record ServiceContent(
    MoRef RootFolder,
    MoRef PropertyCollector,
    MoRef ViewManager,
    MoRef SessionManager,
    MoRef? LicenseManager,
    MoRef? FileManager,
    MoRef? VirtualDiskManager,
    string FullName,
    string Version,
    string Build,
    string ApiVersion,
    string ApiType);

/// <summary>One object of a property-collector result: its reference and the properties asked for.</summary>
public sealed record ObjectContent(MoRef Obj, IReadOnlyDictionary<string, Vmodl.VmodlNode> Properties);
