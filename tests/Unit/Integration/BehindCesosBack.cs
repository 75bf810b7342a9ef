using System.Xml.Linq;
using Ceso.Engine.Connection;
using Ceso.Engine.Soap;

namespace Ceso.Tests.Integration;

/// <summary>
/// Changes on the test bed made directly over the API, as someone else (or VMware Tools, through vcsim's SET.guest.*
/// keys) would, for tests that check how Ceso reads the result.
/// </summary>
internal static class BehindCesosBack
{
    private static readonly XNamespace Vim = "urn:vim25";
    private static readonly XNamespace Xsi = "http://www.w3.org/2001/XMLSchema-instance";

    /// <summary>Sets a VM's notes.</summary>
    public static Task AnnotateAsync(CesoSession soap, string vmId, string text) =>
        ReconfigureAsync(soap, vmId, new XElement(Vim + "annotation", text));

    /// <summary>Sets extraConfig keys (vcsim plays guest reports from <c>SET.guest.ipAddress</c> and the like).</summary>
    public static Task SetExtraConfigAsync(CesoSession soap, string vmId, params (string Key, string Value)[] options) =>
        ReconfigureAsync(soap, vmId, [.. options.Select(o => new XElement(Vim + "extraConfig", new XAttribute(Xsi + "type", "OptionValue"),
            new XElement(Vim + "key", o.Key), new XElement(Vim + "value", new XAttribute(Xsi + "type", "xsd:string"), o.Value)))]);

    private static Task ReconfigureAsync(CesoSession soap, string vmId, params XElement[] spec) =>
        soap.Soap!.InvokeTaskAsync(soap.ServiceContent!.PropertyCollector, "ReconfigVM_Task", new MoRef("VirtualMachine", vmId),
            [new XElement(Vim + "spec", new XAttribute(Xsi + "type", "VirtualMachineConfigSpec"), spec)], default);
}
