using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace Ceso.Engine.Soap;

/// <summary>
/// A small vim25 SOAP client: only the methods Ceso uses, on HttpClient and System.Xml. The server certificate is
/// checked by the certificate check given to the constructor (thumbprint pinning) before any byte of a request is sent.
/// This file is the core (connection, envelope, one round trip, faults, session); the other parts are the property
/// collector (VimClient.PropertyCollector.cs), tasks (VimClient.Tasks.cs) and datastore HTTP (VimClient.DatastoreHttp.cs).
/// </summary>
public sealed partial class VimClient : IDisposable
{
    internal static readonly XNamespace Vim = "urn:vim25";
    private static readonly XNamespace Soapenv = "http://schemas.xmlsoap.org/soap/envelope/";
    private static readonly XNamespace Xsi = "http://www.w3.org/2001/XMLSchema-instance";

    private readonly HttpClient _http;
    private readonly HttpClient _bulk;
    private readonly Dictionary<string, int> _calls = new(StringComparer.Ordinal);
    private long _waitTicks;
    private string _soapAction = "urn:vim25/6.5";

    /// <summary>Creates a client for <paramref name="sdkUrl"/> (https://host/sdk).</summary>
    /// <param name="sdkUrl">The SDK endpoint.</param>
    /// <param name="certificateCheck">Called with the server certificate; return false to refuse the connection.</param>
    /// <param name="connectTimeout">How long to wait for the TCP and TLS connection (a firewalled host drops packets).</param>
    /// <param name="requestTimeout">How long one request may take once connected (large answers, uploads); default 5 min.</param>
    public VimClient(Uri sdkUrl, Func<X509Certificate2, bool> certificateCheck, TimeSpan? connectTimeout = null, TimeSpan? requestTimeout = null)
    {
        SdkUrl = sdkUrl;
        Cookies = new CookieContainer();
        var handler = new SocketsHttpHandler
        {
            CookieContainer = Cookies,
            UseCookies = true,
            ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(15),
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, _) =>
                    cert is not null && certificateCheck(cert as X509Certificate2 ?? new X509Certificate2(cert)),
            },
        };
        _http = new HttpClient(handler, disposeHandler: false) { Timeout = requestTimeout ?? TimeSpan.FromMinutes(5) };
        // Uploads of whole disks take longer than any request timeout; they end by cancellation or a broken connection.
        _bulk = new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
    }

    /// <summary>The SDK endpoint.</summary>
    public Uri SdkUrl { get; }

    /// <summary>The session cookie jar (the datastore HTTP /folder interface needs the same session).</summary>
    public CookieContainer Cookies { get; }

    /// <summary>Time spent waiting for the host (request sent until the last response byte), for overhead benchmarks.</summary>
    public TimeSpan HostWait => TimeSpan.FromTicks(Interlocked.Read(ref _waitTicks));

    /// <summary>Round trips made, per SOAP method (for benchmarks and tests).</summary>
    public IReadOnlyDictionary<string, int> Calls => _calls;

    /// <summary>RetrieveServiceContent; also picks the SOAPAction version from the host's API version.</summary>
    public async Task<ServiceContent> RetrieveServiceContentAsync(CancellationToken ct = default)
    {
        var r = await InvokeAsync("RetrieveServiceContent", new MoRef("ServiceInstance", "ServiceInstance"), [], ct).ConfigureAwait(false);
        var rv = r.Element(Vim + "returnval") ?? throw Malformed("RetrieveServiceContent");
        MoRef Ref(string name) => ToMoRef(rv.Element(Vim + name)) ?? throw Malformed("RetrieveServiceContent: " + name);
        var about = rv.Element(Vim + "about");
        string About(string n) => about?.Element(Vim + n)?.Value ?? "";
        var sc = new ServiceContent(Ref("rootFolder"), Ref("propertyCollector"), Ref("viewManager"), Ref("sessionManager"),
            ToMoRef(rv.Element(Vim + "licenseManager")),
            ToMoRef(rv.Element(Vim + "fileManager")), ToMoRef(rv.Element(Vim + "virtualDiskManager")), About("fullName"), About("version"), About("build"), About("apiVersion"), About("apiType"));
        if (sc.ApiVersion.Length > 0)
        {
            _soapAction = "urn:vim25/" + sc.ApiVersion;
        }

        return sc;
    }

    /// <summary>Login. The password is never written to any log or error.</summary>
    public Task LoginAsync(MoRef sessionManager, string user, string password, CancellationToken ct = default) =>
        InvokeAsync("Login", sessionManager, [new XElement(Vim + "userName", user), new XElement(Vim + "password", password)], ct);

    /// <summary>Logout.</summary>
    public Task LogoutAsync(MoRef sessionManager, CancellationToken ct = default) => InvokeAsync("Logout", sessionManager, [], ct);


    private CesoException Timeout(string what, Exception e) => new("SoapTimeout", CesoErrorKind.Connection,
        $"{SdkUrl.Host} did not answer {what} in time ({e.Message}). The host may be overloaded or the network slow; the call may or may not have taken effect.", e)
    { Host = SdkUrl.Host, Command = what, MayHaveTakenEffect = true };

    /// <summary>Sends one SOAP request and returns the response element (e.g. <c>RetrievePropertiesExResponse</c>).</summary>
    public async Task<XElement> InvokeAsync(string method, MoRef @this, IEnumerable<XElement> args, CancellationToken ct)
    {
        var (status, payload) = await SendAsync(method, @this, args, ct).ConfigureAwait(false);
        return Parse(method, status, payload);
    }

    // One round trip: the raw answer. The time it takes is host wait.
    private async Task<(HttpStatusCode Status, byte[] Payload)> SendAsync(string method, MoRef @this, IEnumerable<XElement> args, CancellationToken ct)
    {
        var body = new XElement(Vim + method, RefElement("_this", @this), args);
        var envelope = new XDocument(new XElement(Soapenv + "Envelope",
            new XAttribute(XNamespace.Xmlns + "soapenv", Soapenv),
            new XAttribute(XNamespace.Xmlns + "xsi", Xsi),
            new XElement(Soapenv + "Body", body)));
        using var request = new HttpRequestMessage(HttpMethod.Post, SdkUrl)
        {
            Content = new StringContent(envelope.ToString(SaveOptions.DisableFormatting), Encoding.UTF8, "text/xml"),
        };
        request.Headers.TryAddWithoutValidation("SOAPAction", _soapAction);
        lock (_calls)
        {
            _calls[method] = _calls.GetValueOrDefault(method) + 1;
        }

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false));
        }
        catch (HttpRequestException e)
        {
            throw new CesoException("SoapUnreachable", CesoErrorKind.Connection,
                $"Could not reach the vSphere API at {SdkUrl} ({e.Message}). Check the address and port, or use -Transport Ssh.", e)
            { Host = SdkUrl.Host, Command = method };
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw Timeout(method, e);
        }
        finally
        {
            Interlocked.Add(ref _waitTicks, System.Diagnostics.Stopwatch.GetElapsedTime(started).Ticks);
        }
    }

    // The answer's body element, or the fault it carries as an exception.
    private XElement Parse(string method, HttpStatusCode status, byte[] payload)
    {
        XDocument doc;
        try
        {
            doc = XDocument.Load(new MemoryStream(payload), LoadOptions.None);
        }
        catch (XmlException e)
        {
            throw new CesoException("SoapMalformedResponse", CesoErrorKind.HostError,
                $"{SdkUrl.Host} answered {method} with HTTP {(int)status} and no SOAP envelope ({e.Message}). Is {SdkUrl} an ESXi host?", e)
            { Host = SdkUrl.Host, Command = method };
        }

        var resultBody = doc.Root?.Element(Soapenv + "Body")?.Elements().FirstOrDefault() ?? throw Malformed(method);
        if (resultBody.Name == Soapenv + "Fault")
        {
            throw ToFault(resultBody, method);
        }

        return resultBody;
    }

    private VimFaultException ToFault(XElement fault, string method)
    {
        var message = fault.Element("faultstring")?.Value ?? "unknown fault";
        var detail = fault.Element("detail")?.Elements().FirstOrDefault();
        var type = detail?.Attribute(Xsi + "type")?.Value;
        if (type is null && detail is not null)
        {
            type = detail.Name.LocalName.EndsWith("Fault", StringComparison.Ordinal) ? detail.Name.LocalName[..^5] : detail.Name.LocalName;
        }

        type = type is null ? "SystemError" : type[(type.IndexOf(':') + 1)..];
        return new VimFaultException(type, message, method) { Host = SdkUrl.Host, Command = method };
    }

    internal static XElement RefElement(string name, MoRef r) => new(Vim + name, new XAttribute("type", r.Type), r.Value);

    private static MoRef? ToMoRef(XElement? e) => e is null ? null : new MoRef(e.Attribute("type")?.Value ?? "", e.Value);

    private CesoException Malformed(string what) => new("SoapMalformedResponse", CesoErrorKind.HostError,
        $"{SdkUrl.Host} sent a SOAP response Ceso cannot read ({what}).") { Host = SdkUrl.Host };

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _bulk.Dispose();
    }
}
