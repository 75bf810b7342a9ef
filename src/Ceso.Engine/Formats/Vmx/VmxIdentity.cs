using System.Globalization;

namespace Ceso.Engine.Formats;

/// <summary>
/// Turns a source .vmx into the .vmx of a new VM: its own name and files, a new BIOS UUID and new MACs, no trace of
/// the source's identity (uuid.location, vc.uuid, generated addresses, swap and log names), and its own guestinfo.
/// </summary>
public static class VmxIdentity
{
    /// <summary>The tag in a VM's notes that marks it protected from every changing Ceso cmdlet.</summary>
    public const string ProtectedTag = "[ceso:protected]";

    /// <summary>What the new VM should look like.</summary>
    /// <param name="Name">VM name (also the folder and file base name).</param>
    /// <param name="NumCpu">vCPUs, or null to keep the source's.</param>
    /// <param name="MemoryMB">Memory, or null to keep the source's.</param>
    /// <param name="Network">Portgroup for the first NIC, or null to keep.</param>
    /// <param name="GuestInfo">guestinfo.* keys to set (all other guestinfo.metadata/userdata/vendordata keys are dropped).</param>
    /// <param name="Annotation">Notes, or null for none.</param>
    public sealed record Target(string Name, int? NumCpu, long? MemoryMB, string? Network, IReadOnlyDictionary<string, string> GuestInfo, string? Annotation);

    /// <summary>The result: the .vmx, where each source disk goes, and the new identity (for tests and output).</summary>
    public sealed record Result(VmxFile Vmx, IReadOnlyList<(string SourceFile, string TargetFile)> Disks, string BiosUuid, IReadOnlyList<string> Macs);

    /// <summary>Rewrites <paramref name="source"/> (left unchanged) for <paramref name="target"/>, its identity from <paramref name="seed"/>.</summary>
    public static Result Rewrite(VmxFile source, Target target, IIdentitySource seed)
    {
        var vmx = VmxFile.Parse(source.ToString());
        vmx.Set("displayName", target.Name);
        vmx.Set("nvram", target.Name + ".nvram");
        foreach (var key in new[] { "uuid.location", "vc.uuid", "sched.swap.derivedName", "migrate.hostLog", "checkpoint.vmState", "uuid.action", "ceso.protected" })
        {
            vmx.Remove(key);
        }

        var uuid = NewBiosUuid(seed);
        vmx.Set("uuid.bios", uuid);
        vmx.Set("annotation", target.Annotation ?? "");

        var disks = new List<(string, string)>();
        var n = 0;
        foreach (var slot in vmx.DiskSlots())
        {
            var file = vmx[slot + ".fileName"]!;
            var newFile = n == 0 ? $"{target.Name}.vmdk" : $"{target.Name}_{n}.vmdk";
            disks.Add((file, newFile));
            vmx.Set(slot + ".fileName", newFile);
            n++;
        }

        var macs = new List<string>();
        foreach (var i in vmx.NicIndexes())
        {
            var p = $"ethernet{i}.";
            vmx.Remove(p + "generatedAddress");
            vmx.Remove(p + "generatedAddressOffset");
            var mac = NewMac(seed, $"mac-{i}");
            vmx.Set(p + "addressType", "static");
            vmx.Set(p + "address", mac);
            macs.Add(mac);
        }

        if (target.Network is not null)
        {
            var first = vmx.NicIndexes().FirstOrDefault(-1);
            if (first < 0)
            {
                throw new CesoException("NoNetworkAdapter", CesoErrorKind.InvalidArgument,
                    $"The source of '{target.Name}' has no network adapter to connect to '{target.Network}'.") { Target = target.Name };
            }

            vmx.Set($"ethernet{first}.networkName", target.Network);
        }

        if (target.NumCpu is { } cpu)
        {
            vmx.Set("numvcpus", cpu.ToString(CultureInfo.InvariantCulture));
        }

        if (target.MemoryMB is { } mem)
        {
            vmx.Set("memSize", mem.ToString(CultureInfo.InvariantCulture));
        }

        vmx.RemoveWhere(k => k.StartsWith("guestinfo.metadata", StringComparison.OrdinalIgnoreCase)
                             || k.StartsWith("guestinfo.userdata", StringComparison.OrdinalIgnoreCase)
                             || k.StartsWith("guestinfo.vendordata", StringComparison.OrdinalIgnoreCase));
        foreach (var (k, v) in target.GuestInfo)
        {
            vmx.Set(k, v);
        }

        return new Result(vmx, disks, uuid, macs);
    }

    /// <summary>A MAC in VMware's range for manually assigned addresses, 00:50:56:00:00:00-00:50:56:3F:FF:FF.</summary>
    public static string NewMac(IIdentitySource seed, string purpose)
    {
        var b = seed.Bytes(purpose, 3);
        b[0] &= 0x3F;
        return $"00:50:56:{b[0]:x2}:{b[1]:x2}:{b[2]:x2}";
    }

    /// <summary>A BIOS UUID in the .vmx form "56 4d 12 … 9f-a0 …" (RFC 4122 version 4 bits, so it reads as a random UUID).</summary>
    public static string NewBiosUuid(IIdentitySource seed)
    {
        var b = seed.Bytes("bios-uuid", 16);
        b[6] = (byte)((b[6] & 0x0F) | 0x40);
        b[8] = (byte)((b[8] & 0x3F) | 0x80);
        var hex = b.Select(x => x.ToString("x2", CultureInfo.InvariantCulture)).ToArray();
        return string.Join(' ', hex[..8]) + "-" + string.Join(' ', hex[8..]);
    }

    /// <summary>The BIOS UUID as the API shows it (config.uuid): "564d12…-…".</summary>
    public static string ApiUuid(string vmxUuid)
    {
        var h = vmxUuid.Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        return h.Length == 32 ? $"{h[..8]}-{h[8..12]}-{h[12..16]}-{h[16..20]}-{h[20..]}" : vmxUuid;
    }
}
