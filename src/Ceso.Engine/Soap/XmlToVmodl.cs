using System.Xml.Linq;
using Ceso.Engine.Vmodl;

namespace Ceso.Engine.Soap;

/// <summary>Converts a vim25 SOAP value (an XML element) into the transport-neutral <see cref="VmodlNode"/>.</summary>
internal static class XmlToVmodl
{
    private static readonly XNamespace Xsi = "http://www.w3.org/2001/XMLSchema-instance";

    public static VmodlNode Convert(XElement e)
    {
        var xsiType = LocalType(e.Attribute(Xsi + "type")?.Value);
        if (xsiType == "ManagedObjectReference" || (!e.HasElements && e.Attribute("type") is { } && xsiType is null))
        {
            return VmodlNode.OfReference(e.Attribute("type")?.Value ?? "", e.Value);
        }

        if (xsiType is not null && xsiType.StartsWith("ArrayOf", StringComparison.Ordinal))
        {
            return VmodlNode.OfArray(xsiType["ArrayOf".Length..], e.Elements().Select(Convert).ToList());
        }

        if (!e.HasElements)
        {
            // Enums carry their own xsi:type with text ("poweredOn"); only a typed element with no text is an empty object.
            return xsiType is null || IsXsd(e) || e.Value.Length > 0
                ? VmodlNode.OfScalar(e.Value, xsiType)
                : VmodlNode.OfObject(xsiType, new Dictionary<string, VmodlNode>());
        }

        var fields = new Dictionary<string, VmodlNode>(StringComparer.Ordinal);
        foreach (var group in e.Elements().GroupBy(c => c.Name.LocalName))
        {
            var values = group.Select(Convert).ToList();
            fields[group.Key] = values.Count == 1 ? values[0] : VmodlNode.OfArray(null, values);
        }

        return VmodlNode.OfObject(xsiType, fields);
    }

    private static bool IsXsd(XElement e) => e.Attribute(Xsi + "type")?.Value.StartsWith("xsd:", StringComparison.Ordinal) == true;

    private static string? LocalType(string? t) => t is null ? null : t[(t.IndexOf(':') + 1)..];
}
