using System.Globalization;
using System.Net;
using System.Text;
using Ceso.Engine.Formats;
using Ceso.Engine.Soap;

namespace Ceso.Engine.Hosts;

/// <summary>
/// Datastore files through the host's HTTP interface (<c>/folder/PATH?dcPath=…&amp;dsName=…</c>, the SOAP session's
/// cookie). Reads send <c>Range: bytes=A-B</c> and stream the 206 answer as it arrives (the response is not buffered);
/// writes PUT a streamed body to a temporary name, then <c>MoveDatastoreFile_Task</c> renames it over the target;
/// on failure the temporary file is deleted (HTTP DELETE) and the target is untouched.
/// </summary>
public sealed class SoapFiles(VimClient client, ServiceContent content, string host) : IHostFiles
{
    /// <inheritdoc />
    public string Transport => "soap";

    /// <inheritdoc />
    public async Task<bool> ExistsAsync(DatastorePath path, CancellationToken ct = default) =>
        await ProbeAsync(path, ct).ConfigureAwait(false) is not null;

    /// <inheritdoc />
    public async Task<HostFileInfo> StatAsync(DatastorePath path, CancellationToken ct = default) =>
        new(path, await ProbeAsync(path, ct).ConfigureAwait(false) ?? throw HostFileErrors.NotFound(host, path));

    /// <inheritdoc />
    public async Task<string> ReadTextAsync(DatastorePath path, CancellationToken ct = default) =>
        Encoding.UTF8.GetString(await client.GetFileAsync(path.Datastore, path.Path, ct).ConfigureAwait(false));

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(DatastorePath path, long offset = 0, long? length = null, CancellationToken ct = default)
    {
        HostFileErrors.CheckRange(offset, length);
        if (length == 0)
        {
            var size = (await StatAsync(path, ct).ConfigureAwait(false)).Size;
            return offset > size ? throw HostFileErrors.RangeNotSatisfiable(host, path, offset, size) : Stream.Null;
        }

        // No Range for the whole file: an empty file has no satisfiable range.
        var range = offset == 0 && length is null ? null
            : "bytes=" + Num(offset) + "-" + (length is { } l ? Num(offset + l - 1) : "");
        var response = await client.SendFileGetAsync(path.Datastore, path.Path, range, ct).ConfigureAwait(false);
        try
        {
            switch (response.StatusCode)
            {
                case HttpStatusCode.NotFound:
                    throw HostFileErrors.NotFound(host, path);
                case HttpStatusCode.RequestedRangeNotSatisfiable:
                    var total = response.Content.Headers.ContentRange?.Length ?? (await StatAsync(path, ct).ConfigureAwait(false)).Size;
                    response.Dispose();
                    return offset == total ? Stream.Null : throw HostFileErrors.RangeNotSatisfiable(host, path, offset, total);
                case HttpStatusCode.PartialContent when response.Content.Headers.ContentRange?.From == offset:
                case HttpStatusCode.OK when range is null:
                    var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
                    return new HttpReadStream(response, body, response.Content.Headers.ContentLength, $"GET {path} on {host}");
                default:
                    throw new CesoException("DatastoreReadFailed", CesoErrorKind.HostError,
                        $"{host} answered GET {path} ({range ?? "whole file"}) with HTTP {(int)response.StatusCode} {response.ReasonPhrase}" +
                        $"{(response.Content.Headers.ContentRange is { } cr ? " for " + cr : "")}, not the range asked for.")
                    { Host = host, Command = $"GET [{path.Datastore}] {path.Path}", Target = path.ToString() };
            }
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public Task WriteAsync(DatastorePath path, Stream source, long? length = null, IProgress<long>? progress = null, CancellationToken ct = default) =>
        WriteAsync(path, HostFileErrors.TempFor(path), source, length, progress, ct);

    /// <summary>As <see cref="WriteAsync(DatastorePath, Stream, long?, IProgress{long}?, CancellationToken)"/>, through the temporary name <paramref name="temp"/> (a caller that shows it).</summary>
    internal async Task WriteAsync(DatastorePath path, DatastorePath temp, Stream source, long? length, IProgress<long>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (length is null && source.CanSeek)
        {
            length = source.Length - source.Position; // a known Content-Length: the body streams without chunking
        }

        var counted = new ProgressReadStream(source, progress);
        try
        {
            await client.PutFileStreamAsync(temp.Datastore, temp.Path, counted, length, ct).ConfigureAwait(false);
            if (length is { } n && counted.Total != n)
            {
                throw new CesoException("FileWriteIncomplete", CesoErrorKind.InvalidArgument,
                    $"The source for {path} gave {counted.Total} bytes where {n} were announced; nothing was written to {host}.") { Host = host, Target = path.ToString() };
            }

            var fileManager = content.FileManager ?? throw new CesoException("SoapNotSupported", CesoErrorKind.NotSupported,
                $"The API of {host} has no FileManager to rename {temp} into place; use -Transport Ssh.") { Host = host };
            await client.MoveDatastoreFileAsync(content.PropertyCollector, fileManager, temp.ToString(), path.ToString(), force: true, ct).ConfigureAwait(false);
        }
        catch
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await client.DeleteFileAsync(temp.Datastore, temp.Path, grace.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is CesoException or OperationCanceledException)
            {
                // the host is unreachable: the hidden .part file is all that is left
            }

            throw;
        }
    }

    /// <inheritdoc />
    public Task DeleteAsync(DatastorePath path, CancellationToken ct = default) => client.DeleteFileAsync(path.Datastore, path.Path, ct);

    // The size of the file, or null when it does not exist: one GET of its first byte (206 "bytes 0-0/SIZE"; an
    // empty file answers 416 "bytes */0"; a folder answers 200 with its listing).
    private async Task<long?> ProbeAsync(DatastorePath path, CancellationToken ct)
    {
        using var response = await client.SendFileGetAsync(path.Datastore, path.Path, "bytes=0-0", ct).ConfigureAwait(false);
        return response.StatusCode switch
        {
            HttpStatusCode.NotFound => null,
            HttpStatusCode.PartialContent or HttpStatusCode.RequestedRangeNotSatisfiable when response.Content.Headers.ContentRange?.Length is { } n => n,
            HttpStatusCode.OK => response.Content.Headers.ContentLength ?? 0,
            _ => throw new CesoException("DatastoreReadFailed", CesoErrorKind.HostError,
                $"{host} answered GET {path} with HTTP {(int)response.StatusCode} {response.ReasonPhrase}.")
            { Host = host, Command = $"GET [{path.Datastore}] {path.Path}", Target = path.ToString() },
        };
    }

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>The body of a datastore GET: owns the response, and ends with an error, not quietly, when short.</summary>
    private sealed class HttpReadStream(HttpResponseMessage response, Stream body, long? expected, string what) : ReadOnlyTransferStream
    {
        private long _read;

        public override long Length => expected ?? throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            _read += n;
            if (n == 0 && buffer.Length > 0 && expected is { } e && _read != e)
            {
                throw new IOException($"{what} gave {_read} bytes where {e} were announced; the transfer is incomplete — read it again.");
            }

            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                body.Dispose();
                response.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
