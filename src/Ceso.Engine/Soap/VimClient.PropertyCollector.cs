using System.Net;
using System.Xml;
using System.Xml.Linq;

namespace Ceso.Engine.Soap;

/// <summary>The property collector: container views and RetrievePropertiesEx, paged.</summary>
public sealed partial class VimClient
{
    /// <summary>CreateContainerView over <paramref name="container"/> for the given types, recursive.</summary>
    public async Task<MoRef> CreateContainerViewAsync(MoRef viewManager, MoRef container, IEnumerable<string> types, CancellationToken ct = default)
    {
        var args = new List<XElement> { RefElement("container", container) };
        args.AddRange(types.Select(t => new XElement(Vim + "type", t)));
        args.Add(new XElement(Vim + "recursive", "true"));
        var r = await InvokeAsync("CreateContainerView", viewManager, args, ct).ConfigureAwait(false);
        return ToMoRef(r.Element(Vim + "returnval")) ?? throw Malformed("CreateContainerView");
    }

    /// <summary>
    /// One RetrievePropertiesEx (plus ContinueRetrievePropertiesEx only when the host pages the result).
    /// <paramref name="objectSets"/> are the objects to start from (a container view with a traversal, or a single object).
    /// </summary>
    public async Task<IReadOnlyList<ObjectContent>> RetrievePropertiesAsync(
        MoRef propertyCollector, IEnumerable<PropertySpec> propSets, IEnumerable<ObjectSpec> objectSets, CancellationToken ct = default)
    {
        var spec = new XElement(Vim + "specSet",
            propSets.Select(p => new XElement(Vim + "propSet",
                new XElement(Vim + "type", p.Type),
                p.Paths.Select(path => new XElement(Vim + "pathSet", path)))),
            objectSets.Select(o => o.ToXml()));
        var result = new List<ObjectContent>();
        var token = await RetrievePageAsync("RetrievePropertiesEx", propertyCollector, [spec, new XElement(Vim + "options")], result, ct).ConfigureAwait(false);
        while (!string.IsNullOrEmpty(token))
        {
            token = await RetrievePageAsync("ContinueRetrievePropertiesEx", propertyCollector, [new XElement(Vim + "token", token)], result, ct).ConfigureAwait(false);
        }

        return result;
    }

    // A successful answer is read in one streaming pass (RetrieveResultReader); a fault goes through Parse.
    private async Task<string?> RetrievePageAsync(string method, MoRef propertyCollector, IEnumerable<XElement> args, List<ObjectContent> into, CancellationToken ct)
    {
        var (status, payload) = await SendAsync(method, propertyCollector, args, ct).ConfigureAwait(false);
        if (status != HttpStatusCode.OK)
        {
            Parse(method, status, payload); // throws the fault
        }

        try
        {
            var (objects, token) = RetrieveResultReader.Read(payload);
            into.AddRange(objects);
            return token;
        }
        catch (XmlException e)
        {
            throw new CesoException("SoapMalformedResponse", CesoErrorKind.HostError,
                $"{SdkUrl.Host} sent a {method} answer Ceso cannot read ({e.Message}).", e) { Host = SdkUrl.Host, Command = method };
        }
    }
}


/// <summary>The properties to read for one managed object type.</summary>
public sealed record PropertySpec(string Type, IReadOnlyList<string> Paths);

/// <summary>Where a property-collector query starts: an object, optionally traversing a container view.</summary>
public sealed record ObjectSpec(MoRef Obj, bool ViaContainerView)
{
    internal XElement ToXml()
    {
        XNamespace xsi = "http://www.w3.org/2001/XMLSchema-instance";
        var e = new XElement(VimClient.Vim + "objectSet", VimClient.RefElement("obj", Obj), new XElement(VimClient.Vim + "skip", ViaContainerView ? "true" : "false"));
        if (ViaContainerView)
        {
            e.Add(new XElement(VimClient.Vim + "selectSet", new XAttribute(xsi + "type", "TraversalSpec"),
                new XElement(VimClient.Vim + "name", "view"),
                new XElement(VimClient.Vim + "type", "ContainerView"),
                new XElement(VimClient.Vim + "path", "view"),
                new XElement(VimClient.Vim + "skip", "false")));
        }

        return e;
    }
}
