using Ceso.Engine.Formats;

namespace Ceso.Engine.Hosts;

/// <summary>
/// Files on the host's datastores, addressed by <see cref="DatastorePath"/>, over one transport. Bulk reads and writes
/// are streams: a 100 GB flat disk never sits in memory. Implementations: <see cref="SoapFiles"/> (datastore HTTP
/// <c>/folder</c>) and <see cref="SshFiles"/> (the host's shell; bulk data on ssh processes of their own).
/// </summary>
/// <remarks>
/// Ranges: <see cref="OpenReadAsync"/> reads the bytes <c>[offset, offset + length)</c> clamped to the end of the
/// file: a range that runs past the end gives a short stream that ends at the file's last byte (as HTTP Range and dd
/// do); an offset at the end gives an empty stream; an offset past the end is an error
/// (<c>FileRangeNotSatisfiable</c>). A stream that ends before the bytes the host promised raises an
/// <see cref="IOException"/> or <see cref="CesoException"/> from its reads; it never ends quietly short.
/// </remarks>
public interface IHostFiles
{
    /// <summary>"soap" or "ssh".</summary>
    string Transport { get; }

    /// <summary>Whether a file or folder exists at the path.</summary>
    Task<bool> ExistsAsync(DatastorePath path, CancellationToken ct = default);

    /// <summary>The file's size; <c>FileNotFound</c> when it does not exist.</summary>
    Task<HostFileInfo> StatAsync(DatastorePath path, CancellationToken ct = default);

    /// <summary>A small text file (a .vmx, a descriptor) read whole as UTF-8.</summary>
    Task<string> ReadTextAsync(DatastorePath path, CancellationToken ct = default);

    /// <summary>
    /// Opens a stream of the bytes from <paramref name="offset"/>, <paramref name="length"/> of them or to the end of
    /// the file when null (see the remarks on ranges). The stream pulls from the host as it is read; disposing it
    /// before the end stops the transfer.
    /// </summary>
    Task<Stream> OpenReadAsync(DatastorePath path, long offset = 0, long? length = null, CancellationToken ct = default);

    /// <summary>
    /// Writes the file from <paramref name="source"/>, streaming. The bytes go to a temporary name in the same folder
    /// that is renamed over <paramref name="path"/> only when all of them arrived (and, with a
    /// <paramref name="length"/>, when the temporary file has that size): on any failure the temporary file is removed
    /// and the target is as it was. <paramref name="progress"/> gets the bytes sent so far.
    /// </summary>
    Task WriteAsync(DatastorePath path, Stream source, long? length = null, IProgress<long>? progress = null, CancellationToken ct = default);

    /// <summary>Deletes a file; a file that is not there is not an error.</summary>
    Task DeleteAsync(DatastorePath path, CancellationToken ct = default);
}

/// <summary>What <see cref="IHostFiles.StatAsync"/> knows about a file.</summary>
/// <param name="Path">The file.</param>
/// <param name="Size">Its size in bytes (the apparent size: a sparse flat disk reports its capacity).</param>
public sealed record HostFileInfo(DatastorePath Path, long Size);

/// <summary>Errors shared by the implementations of <see cref="IHostFiles"/>.</summary>
internal static class HostFileErrors
{
    public static CesoException NotFound(string host, DatastorePath path) =>
        new("FileNotFound", CesoErrorKind.NotFound, $"{path} does not exist on {host}.") { Host = host, Target = path.ToString() };

    public static CesoException RangeNotSatisfiable(string host, DatastorePath path, long offset, long size) =>
        new("FileRangeNotSatisfiable", CesoErrorKind.InvalidArgument,
            $"Cannot read {path} on {host} from byte {offset}: the file has only {size} bytes. Read from an offset within the file.")
        { Host = host, Target = path.ToString() };

    public static void CheckRange(long offset, long? length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } l)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(l, nameof(length));
        }
    }

    /// <summary>The temporary name a write goes to first: hidden, in the same folder (so the rename stays on one volume).</summary>
    public static DatastorePath TempFor(DatastorePath path) =>
        path.Folder.Child("." + path.FileName + ".ceso-" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)).ToLowerInvariant() + ".part");
}
