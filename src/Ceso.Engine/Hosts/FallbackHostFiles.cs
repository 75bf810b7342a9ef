using Ceso.Engine.Formats;

namespace Ceso.Engine.Hosts;

/// <summary>
/// Files on a host whose license may refuse the API's writes: reads always go to <paramref name="primary"/> (the API
/// reads on a free license too); writes and deletes go to <paramref name="primary"/> until the host refuses one
/// (<see cref="FreeLicense.IsRefusal"/>), then to <paramref name="fallback"/> (SSH), for the rest of the session.
/// </summary>
public sealed class FallbackHostFiles(IHostFiles primary, IHostFiles fallback, FreeLicense license, string host) : IHostFiles
{
    /// <inheritdoc />
    public string Transport => primary.Transport;

    /// <inheritdoc />
    public Task<bool> ExistsAsync(DatastorePath path, CancellationToken ct = default) => primary.ExistsAsync(path, ct);

    /// <inheritdoc />
    public Task<HostFileInfo> StatAsync(DatastorePath path, CancellationToken ct = default) => primary.StatAsync(path, ct);

    /// <inheritdoc />
    public Task<string> ReadTextAsync(DatastorePath path, CancellationToken ct = default) => primary.ReadTextAsync(path, ct);

    /// <inheritdoc />
    public Task<Stream> OpenReadAsync(DatastorePath path, long offset = 0, long? length = null, CancellationToken ct = default) =>
        primary.OpenReadAsync(path, offset, length, ct);

    /// <inheritdoc />
    /// <remarks>
    /// A refused write has read part of <paramref name="source"/> already. A seekable source is rewound and written over
    /// SSH; a stream that cannot be read again fails with <c>SoapWriteRefused</c> (nothing was written: the API's
    /// temporary file is removed), and the next write of the session goes over SSH at once.
    /// </remarks>
    public async Task WriteAsync(DatastorePath path, Stream source, long? length = null, IProgress<long>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!license.Detected)
        {
            var start = source.CanSeek ? source.Position : 0;
            var counted = new ProgressReadStream(source, null); // counts what the API read of it
            try
            {
                await primary.WriteAsync(path, counted, length ?? (source.CanSeek ? source.Length - start : null), progress, ct).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (FreeLicense.IsRefusal(e))
            {
                license.Remember();
                if (counted.Total > 0 && !source.CanSeek)
                {
                    throw new CesoException("SoapWriteRefused", CesoErrorKind.NotSupported,
                        $"{host} refused to write {path} over the API ({e.Message}: a free license), and the data cannot be read a second time to send it over SSH. " +
                        "Nothing was written; write it again — this session now writes over SSH.", e)
                    { Host = host, Target = path.ToString() };
                }

                if (source.CanSeek)
                {
                    source.Position = start;
                }
            }
        }

        await fallback.WriteAsync(path, source, length, progress, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task DeleteAsync(DatastorePath path, CancellationToken ct = default)
    {
        if (!license.Detected)
        {
            try
            {
                await primary.DeleteAsync(path, ct).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (FreeLicense.IsRefusal(e))
            {
                license.Remember();
            }
        }

        await fallback.DeleteAsync(path, ct).ConfigureAwait(false);
    }
}
