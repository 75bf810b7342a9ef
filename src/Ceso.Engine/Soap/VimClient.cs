using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace Ceso.Engine.Soap;

/// <summary>
/// A small vim25 SOAP client: only the methods Ceso uses, on HttpClient and System.Xml. The server certificate is
/// checked by the certificate check given to the constructor (thumbprint pinning) before any byte of a request is sent.
/// </summary>
public sealed class VimClient : IDisposable
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

    /// <summary>
    /// Calls a *_Task method and waits for the task: returns its result (or null), or throws the task's fault as
    /// <see cref="VimFaultException"/>. Polls the task's info (real hosts finish tasks after the call returns).
    /// </summary>
    public async Task<Vmodl.VmodlNode?> InvokeTaskAsync(MoRef propertyCollector, string method, MoRef @this, IEnumerable<XElement> args, CancellationToken ct,
        IProgress<int>? progress = null)
    {
        var r = await InvokeAsync(method, @this, args, ct).ConfigureAwait(false);
        var task = ToMoRef(r.Element(Vim + "returnval")) ?? throw Malformed(method);
        try
        {
            return await WaitForTaskAsync(propertyCollector, method, task, progress, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl+C stops our waiting, not the host's work: ask the host to cancel the task and wait (bounded) until
            // it has ended, so that an undo does not race a disk copy or snapshot that is still running.
            using var grace = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try
            {
                await InvokeAsync("CancelTask", task, [], grace.Token).ConfigureAwait(false);
            }
            catch (VimFaultException)
            {
                // not cancelable, or already done
            }

            try
            {
                await WaitForTaskAsync(propertyCollector, method, task, null, grace.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is CesoException or OperationCanceledException)
            {
                // ended with the cancellation fault, or still running after the grace period
            }

            throw;
        }
    }

    private async Task<Vmodl.VmodlNode?> WaitForTaskAsync(MoRef propertyCollector, string method, MoRef task, IProgress<int>? progress, CancellationToken ct)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            var objects = await RetrievePropertiesAsync(propertyCollector, [new PropertySpec("Task", ["info.state", "info.error", "info.result", "info.progress"])],
                [new ObjectSpec(task, false)], ct).ConfigureAwait(false);
            var props = objects.FirstOrDefault()?.Properties ?? throw Malformed(method + ": task vanished");
            if (progress is not null && int.TryParse(props.GetValueOrDefault("info.progress")?.Scalar, out var percent))
            {
                progress.Report(percent);
            }

            switch (props.GetValueOrDefault("info.state")?.Scalar)
            {
                case "success":
                    progress?.Report(100);
                    return props.GetValueOrDefault("info.result");
                case "error":
                    var error = props.GetValueOrDefault("info.error");
                    var fault = error?.Get("fault")?.ShortType ?? "SystemError";
                    var message = error?.String("localizedMessage") is { Length: > 0 } m ? m : fault;
                    throw new VimFaultException(fault, message, method) { Host = SdkUrl.Host, Command = method };
            }

            await Task.Delay(delay, ct).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(1000, delay.TotalMilliseconds * 2));
        }
    }

    private CesoException Timeout(string what, Exception e) => new("SoapTimeout", CesoErrorKind.Connection,
        $"{SdkUrl.Host} did not answer {what} in time ({e.Message}). The host may be overloaded or the network slow; the call may or may not have taken effect.", e)
    { Host = SdkUrl.Host, Command = what, MayHaveTakenEffect = true };

    private CesoException HttpFailure(string what, Exception e) => new("DatastoreHttpFailed", CesoErrorKind.Connection,
        $"The datastore HTTP request {what} to {SdkUrl.Host} failed ({e.Message}).", e)
    { Host = SdkUrl.Host, Command = what };

    /// <summary>Datastore HTTP: uploads a file with the session cookie (PUT /folder/path?dcPath=…&amp;dsName=…).</summary>
    public async Task PutFileAsync(string datastore, string path, byte[] content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, FolderUrl(datastore, path)) { Content = new ByteArrayContent(content) };
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw HttpFailure($"PUT [{datastore}] {path}", e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw Timeout($"PUT [{datastore}] {path}", e);
        }
        finally
        {
            Interlocked.Add(ref _waitTicks, System.Diagnostics.Stopwatch.GetElapsedTime(started).Ticks);
        }

        using var _ = response;
        if (!response.IsSuccessStatusCode)
        {
            throw WriteRefused(response, $"store [{datastore}] {path}", $"PUT [{datastore}] {path}");
        }
    }

    /// <summary>Datastore HTTP: downloads a file with the session cookie.</summary>
    public async Task<byte[]> GetFileAsync(string datastore, string path, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            using var response = await _http.GetAsync(FolderUrl(datastore, path), ct).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                throw new CesoException("FileNotFound", CesoErrorKind.NotFound, $"[{datastore}] {path} does not exist on {SdkUrl.Host}.") { Host = SdkUrl.Host };
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new CesoException("DatastoreReadFailed", CesoErrorKind.HostError,
                    $"{SdkUrl.Host} refused to send [{datastore}] {path}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}.")
                { Host = SdkUrl.Host, Command = $"GET [{datastore}] {path}" };
            }

            return await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw HttpFailure($"GET [{datastore}] {path}", e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw Timeout($"GET [{datastore}] {path}", e);
        }
        finally
        {
            Interlocked.Add(ref _waitTicks, System.Diagnostics.Stopwatch.GetElapsedTime(started).Ticks);
        }
    }

    /// <summary>
    /// Datastore HTTP: sends a GET (with <paramref name="range"/> as the Range header, e.g. <c>bytes=0-1023</c>) and
    /// returns as soon as the headers are in (HttpCompletionOption.ResponseHeadersRead): the body is read from the
    /// response as a stream, never buffered. The caller owns and disposes the response and interprets its status.
    /// </summary>
    public async Task<HttpResponseMessage> SendFileGetAsync(string datastore, string path, string? range, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, FolderUrl(datastore, path));
        if (range is not null)
        {
            request.Headers.TryAddWithoutValidation("Range", range);
        }

        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw HttpFailure($"GET [{datastore}] {path}", e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw Timeout($"GET [{datastore}] {path}", e);
        }
    }

    /// <summary>
    /// Datastore HTTP: uploads <paramref name="content"/> as the body of a PUT, streaming (StreamContent, with a
    /// Content-Length when <paramref name="length"/> is known, else chunked), with no request timeout (a disk takes
    /// as long as it takes; cancel with <paramref name="ct"/>). Failures as <see cref="PutFileAsync"/>.
    /// </summary>
    public async Task PutFileStreamAsync(string datastore, string path, Stream content, long? length, CancellationToken ct)
    {
        using var body = new StreamContent(content, 256 * 1024);
        if (length is { } n)
        {
            body.Headers.ContentLength = n;
        }

        using var request = new HttpRequestMessage(HttpMethod.Put, FolderUrl(datastore, path)) { Content = body };
        HttpResponseMessage response;
        try
        {
            response = await _bulk.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            // A failing source stream surfaces here too; its exception is the inner one.
            throw HttpFailure($"PUT [{datastore}] {path}", e);
        }

        using var _ = response;
        if (!response.IsSuccessStatusCode)
        {
            throw WriteRefused(response, $"store [{datastore}] {path}", $"PUT [{datastore}] {path}");
        }
    }

    /// <summary>Datastore HTTP: deletes a file (DELETE /folder/…); returns false when the host answered 404.</summary>
    public async Task<bool> DeleteFileAsync(string datastore, string path, CancellationToken ct)
    {
        try
        {
            using var response = await _http.DeleteAsync(FolderUrl(datastore, path), ct).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return false;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw WriteRefused(response, $"delete [{datastore}] {path}", $"DELETE [{datastore}] {path}");
            }

            return true;
        }
        catch (HttpRequestException e)
        {
            throw HttpFailure($"DELETE [{datastore}] {path}", e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw Timeout($"DELETE [{datastore}] {path}", e);
        }
    }

    // 507: the datastore is full. 403: the host forbids datastore writes (a free license, as the API's RestrictedVersion).
    private CesoException WriteRefused(HttpResponseMessage response, string what, string command) =>
        new(response.StatusCode switch
        {
            HttpStatusCode.InsufficientStorage => "DatastoreFull",
            HttpStatusCode.Forbidden => "DatastoreWriteForbidden",
            _ => "DatastoreWriteFailed",
        }, CesoErrorKind.HostError, $"{SdkUrl.Host} refused to {what}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}.")
        { Host = SdkUrl.Host, Command = command };

    private Uri FolderUrl(string datastore, string path) =>
        new(SdkUrl, "/folder/" + string.Join('/', path.Split('/').Select(Uri.EscapeDataString))
            + "?dcPath=" + StandaloneHost.DatacenterName + "&dsName=" + Uri.EscapeDataString(datastore));

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
