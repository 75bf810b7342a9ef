using System.Net;

namespace Ceso.Engine.Soap;

/// <summary>Datastore HTTP (/folder with the session cookie): small files as byte arrays, streamed GET and PUT for disks, DELETE.</summary>
public sealed partial class VimClient
{
    private CesoException HttpFailure(string what, Exception e) => new("DatastoreHttpFailed", CesoErrorKind.Connection,
        $"The datastore HTTP request {what} to {SdkUrl.Host} failed ({e.Message}).", e)
    { Host = SdkUrl.Host, Command = what };

    // One datastore HTTP exchange: a failed connection is DatastoreHttpFailed, the request timeout SoapTimeout (Ctrl+C
    // stays an OperationCanceledException); with countWait the time it takes is host wait.
    private async Task<T> ExchangeAsync<T>(string command, Func<Task<T>> exchange, bool countWait, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            return await exchange().ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw HttpFailure(command, e);
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw Timeout(command, e);
        }
        finally
        {
            if (countWait)
            {
                Interlocked.Add(ref _waitTicks, System.Diagnostics.Stopwatch.GetElapsedTime(started).Ticks);
            }
        }
    }

    /// <summary>Datastore HTTP: uploads a file with the session cookie (PUT /folder/path?dcPath=…&amp;dsName=…).</summary>
    public async Task PutFileAsync(string datastore, string path, byte[] content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, FolderUrl(datastore, path)) { Content = new ByteArrayContent(content) };
        using var response = await ExchangeAsync($"PUT [{datastore}] {path}", () => _http.SendAsync(request, ct), countWait: true, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw WriteRefused(response, $"store [{datastore}] {path}", $"PUT [{datastore}] {path}");
        }
    }

    /// <summary>Datastore HTTP: downloads a file with the session cookie.</summary>
    public Task<byte[]> GetFileAsync(string datastore, string path, CancellationToken ct) => ExchangeAsync($"GET [{datastore}] {path}", async () =>
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
        }, countWait: true, ct);

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

        return await ExchangeAsync($"GET [{datastore}] {path}", () => _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct), countWait: false, ct)
            .ConfigureAwait(false);
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
    public Task<bool> DeleteFileAsync(string datastore, string path, CancellationToken ct) => ExchangeAsync($"DELETE [{datastore}] {path}", async () =>
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
        }, countWait: false, ct);

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
}
