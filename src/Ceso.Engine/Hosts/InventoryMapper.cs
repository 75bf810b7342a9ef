using Ceso.Engine.Model;
using Ceso.Engine.Vmodl;

namespace Ceso.Engine.Hosts;

/// <summary>
/// The one mapping from vSphere data (whichever transport read it) to Ceso's objects. Both inventories call it with
/// a lookup of property paths such as <c>config.hardware.numCPU</c>, so SOAP and SSH cannot disagree on meaning.
/// </summary>
internal static class InventoryMapper
{
    /// <summary>The VM properties discovery reads; SOAP asks for exactly these, SSH reads the dumps that hold them.</summary>
    public static readonly IReadOnlyList<string> VmProperties =
    [
        "name", "config.template", "config.hardware.numCPU", "config.hardware.memoryMB", "config.hardware.device",
        "config.uuid", "config.guestFullName", "config.firmware", "config.files.vmPathName", "config.annotation",
        "runtime.powerState", "guest.toolsRunningStatus", "guest.toolsVersion", "guest.toolsVersionStatus2", "guest.ipAddress", "guest.net", "snapshot",
        "config.extraConfig",
    ];

    public static CesoVm Vm(string server, string id, Func<string, VmodlNode?> prop)
    {
        string? S(string p) => prop(p)?.Scalar is { Length: > 0 } v ? v : null;
        var devices = prop("config.hardware.device")?.AsList() ?? [];
        return new CesoVm
        {
            Server = server,
            Id = id,
            Name = S("name") ?? id,
            PowerState = S("runtime.powerState") switch
            {
                "poweredOn" => CesoPowerState.PoweredOn,
                "poweredOff" => CesoPowerState.PoweredOff,
                "suspended" => CesoPowerState.Suspended,
                _ => CesoPowerState.Unknown,
            },
            NumCpu = (int)(Num(prop("config.hardware.numCPU")) ?? 0),
            MemoryMB = Num(prop("config.hardware.memoryMB")) ?? 0,
            Disks = Disks(devices),
            Nics = Nics(devices),
            IPAddresses = Ips(prop("guest.ipAddress"), prop("guest.net")),
            GuestInfoIPAddresses = GuestInfoIps(prop("config.extraConfig")),
            GuestOs = S("config.guestFullName"),
            BiosUuid = S("config.uuid"),
            Firmware = S("config.firmware"),
            VmxPath = S("config.files.vmPathName"),
            ToolsStatus = S("guest.toolsRunningStatus") switch
            {
                "guestToolsRunning" => "Running",
                "guestToolsNotRunning" => "NotRunning",
                "guestToolsExecutingScripts" => "ExecutingScripts",
                _ => "Unknown",
            },
            ToolsVersion = ToolsVersion(S("guest.toolsVersion")),
            ToolsVersionStatus = S("guest.toolsVersionStatus2") is { } status
                ? status.StartsWith("guestTools", StringComparison.Ordinal) ? status["guestTools".Length..] : status
                : null,
            SnapshotCount = CountSnapshots(prop("snapshot")?.Get("rootSnapshotList")),
            Annotation = S("config.annotation"),
            IsTemplate = prop("config.template")?.Scalar == "true",
        };
    }

    public static CesoHost Host(string server, VmodlNode summary, string? license) => new()
    {
        Server = server,
        Name = summary.String("config.name") ?? server,
        Product = summary.String("config.product.name") ?? "VMware ESXi",
        Version = summary.String("config.product.version") ?? "",
        Build = summary.String("config.product.build") ?? "",
        CpuModel = summary.String("hardware.cpuModel"),
        CpuSockets = (int)(summary.Long("hardware.numCpuPkgs") ?? 0),
        CpuCores = (int)(summary.Long("hardware.numCpuCores") ?? 0),
        CpuThreads = (int)(summary.Long("hardware.numCpuThreads") ?? 0),
        CpuMhz = (int)(summary.Long("hardware.cpuMhz") ?? 0),
        MemoryBytes = summary.Long("hardware.memorySize") ?? 0,
        LicenseEdition = license,
    };

    /// <summary>"VMFS-6" (esxcli) and "VMFS" (API) are the same type; the API's spelling wins.</summary>
    public static string DatastoreType(string type) =>
        type.StartsWith("VMFS", StringComparison.OrdinalIgnoreCase) ? "VMFS" : type;

    /// <summary>The API's url form, <c>ds:///vmfs/volumes/&lt;uuid&gt;/</c>, from a mount point or a url.</summary>
    public static string DatastoreUrl(string urlOrMountPoint) =>
        urlOrMountPoint.StartsWith("ds://", StringComparison.Ordinal) ? urlOrMountPoint : "ds://" + urlOrMountPoint.TrimEnd('/') + "/";

    /// <summary>
    /// The host's tools version number as a version: hostd encodes major.minor.patch as
    /// <c>major * 1024 + minor * 32 + patch</c> (12389 = 12.3.5); 0 or nothing means none reported.
    /// </summary>
    public static string? ToolsVersion(string? number) =>
        int.TryParse(number, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0
            ? $"{v >> 10}.{(v >> 5) & 31}.{v & 31}"
            : null;

    private static long? Num(VmodlNode? n) => long.TryParse(n?.Scalar, out var v) ? v : null;

    private static List<CesoVmDisk> Disks(IReadOnlyList<VmodlNode> devices)
    {
        var disks = new List<CesoVmDisk>();
        foreach (var d in devices.Where(d => d.ShortType == "VirtualDisk"))
        {
            var file = d.String("backing.fileName") ?? "";
            disks.Add(new CesoVmDisk
            {
                Index = disks.Count,
                Path = file,
                Datastore = DatastoreOf(file),
                CapacityBytes = d.Long("capacityInBytes") is > 0 and var b ? b : (d.Long("capacityInKB") ?? 0) * 1024,
                Thin = d.Bool("backing.thinProvisioned"),
                Mode = d.String("backing.diskMode"),
            });
        }

        return disks;
    }

    private static List<CesoVmNic> Nics(IReadOnlyList<VmodlNode> devices)
    {
        var nics = new List<CesoVmNic>();
        foreach (var d in devices)
        {
            var type = AdapterType(d.ShortType);
            if (type is null)
            {
                continue;
            }

            nics.Add(new CesoVmNic
            {
                Index = nics.Count,
                AdapterType = type,
                MacAddress = d.String("macAddress"),
                Network = d.String("backing.deviceName") ?? d.String("deviceInfo.summary"),
            });
        }

        return nics;
    }

    /// <summary>The adapter type users write (-AdapterType vmxnet3) for a device type name; null if not a NIC.</summary>
    public static string? AdapterType(string? shortType) => shortType switch
    {
        "VirtualVmxnet3" => "vmxnet3",
        "VirtualVmxnet3Vrdma" => "vrdma",
        "VirtualE1000e" => "e1000e",
        "VirtualE1000" => "e1000",
        "VirtualVmxnet2" => "vmxnet2",
        "VirtualVmxnet" => "vmxnet",
        "VirtualPCNet32" => "pcnet32",
        "VirtualSriovEthernetCard" => "sriov",
        _ => null,
    };

    /// <summary>"[datastore 1] web01/web01.vmdk" → "datastore 1".</summary>
    public static string DatastoreOf(string datastorePath)
    {
        if (datastorePath.StartsWith('['))
        {
            var end = datastorePath.IndexOf(']');
            if (end > 0)
            {
                return datastorePath[1..end];
            }
        }

        return "";
    }

    private static List<string> Ips(VmodlNode? primary, VmodlNode? net)
    {
        var ips = new List<string>();
        foreach (var nic in net?.AsList() ?? [])
        {
            foreach (var ip in nic.Get("ipAddress")?.AsList() ?? [])
            {
                if (ip.Scalar is { Length: > 0 } s && !ips.Contains(s))
                {
                    ips.Add(s);
                }
            }
        }

        if (primary?.Scalar is { Length: > 0 } p && !ips.Contains(p))
        {
            ips.Insert(0, p);
        }

        return ips;
    }

    // The static addresses the VM's guestinfo.metadata gives its guest. The last value of a key wins: vcsim appends
    // a reconfigured key instead of replacing it, and a .vmx read top to bottom does the same.
    private static List<string> GuestInfoIps(VmodlNode? extraConfig)
    {
        string? metadata = null, encoding = null;
        foreach (var option in extraConfig?.AsList() ?? [])
        {
            switch (option.String("key"))
            {
                case "guestinfo.metadata": metadata = option.String("value"); break;
                case "guestinfo.metadata.encoding": encoding = option.String("value"); break;
            }
        }

        return CloudInit.GuestInfoAddresses.Parse(metadata, encoding).Select(a => a.ToString()).ToList();
    }

    private static int CountSnapshots(VmodlNode? list)
    {
        var n = 0;
        foreach (var s in list?.AsList() ?? [])
        {
            n += 1 + CountSnapshots(s.Get("childSnapshotList"));
        }

        return n;
    }
}
