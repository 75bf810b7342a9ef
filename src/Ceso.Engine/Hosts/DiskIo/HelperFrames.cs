using System.Buffers.Binary;
using System.Text;
using Ceso.Engine.Formats;
using Ceso.Engine.Ssh;

namespace Ceso.Engine.Hosts.DiskIo;

/// <summary>
/// The frames between Ceso and the host helpers (integers big-endian). Host to Ceso, both scripts:
/// <c>H "CESODIO1"</c> first (the script runs: python is usable), and last either <c>X u32 len, "ErrorId\tmessage"</c>
/// or the trailer. The reader then sends per non-zero block, in index order, <c>B u64 index, 32 hash, u32 length, data</c>
/// or, for a known hash, <c>K u64 index, 32 hash, u32 length</c>; <c>P u64 bytesScanned</c> while it skips holes and
/// zero blocks; and the trailer <c>T u64 sent, u64 known, u64 zero, u64 bytesScanned, u8 seekDataUsed</c>. The writer's
/// trailer is <c>T u64 blocks, u64 bytes, u32 CRC-32</c> (zlib.crc32) over every B frame's index, length and data as received.
/// Ceso to the writer: <c>B u64 index, u32 length, data</c> … then <c>E u64 blocks</c>. Every stream must end with
/// its trailer: a stream cut short raises an error, never gives a short disk.
/// </summary>
internal static class HelperFrames
{
    public static ReadOnlySpan<byte> Hello => "HCESODIO1"u8;

    public const byte Block = (byte)'B';
    public const byte Known = (byte)'K';
    public const byte Progress = (byte)'P';
    public const byte Trailer = (byte)'T';
    public const byte Error = (byte)'X';
    public const byte End = (byte)'E';

    /// <summary>Index, hash and length after a B or K type byte.</summary>
    public const int BlockHeader = 8 + 32 + 4;

    /// <summary>The reader's trailer after its type byte.</summary>
    public const int ReadTrailer = 8 * 4 + 1;

    /// <summary>The writer's trailer after its type byte.</summary>
    public const int WriteTrailer = 8 + 8 + 4;

    /// <summary>Reads the hello; false when stdout ended before it (python did not run the script).</summary>
    public static async Task<bool> ReadHelloAsync(HelperProcess helper, CancellationToken ct)
    {
        var hello = new byte[Hello.Length];
        var n = await helper.ReadAsync(hello, ct).ConfigureAwait(false);
        return n == hello.Length && hello.AsSpan().SequenceEqual(Hello);
    }

    /// <summary>
    /// The error for "python did not run the helper": the host's answer (127 not found, 126 refused by execInstalledOnly,
    /// or a Python 2 traceback), for the verdict and the fallback.
    /// </summary>
    public static async Task<HelperUnavailableException> UnavailableAsync(HelperProcess helper)
    {
        var r = await helper.ResultAsync().ConfigureAwait(false);
        if (r is null)
        {
            // the transfer itself failed (connection lost): that is thrown by the next read, not a verdict on python
            await helper.ReadAsync(new byte[1], CancellationToken.None).ConfigureAwait(false);
        }

        var why = r?.ExitCode switch
        {
            127 => "python was not found on the host",
            126 => "the host refused to run python (execInstalledOnly?)",
            _ => "python did not run the helper (not Python 3?)",
        };
        return new HelperUnavailableException($"{why} ({HelperProcess.Describe(r)})");
    }

    /// <summary>Reads an X frame's body and makes the error it names.</summary>
    public static async Task<CesoException> ReadErrorAsync(HelperProcess helper, string host, DatastorePath path, CancellationToken ct)
    {
        var len = new byte[4];
        if (await helper.ReadAsync(len, ct).ConfigureAwait(false) == 4)
        {
            var body = new byte[Math.Min(BinaryPrimitives.ReadUInt32BigEndian(len), 64 * 1024)];
            var n = await helper.ReadAsync(body, ct).ConfigureAwait(false);
            var text = Encoding.UTF8.GetString(body, 0, n);
            var tab = text.IndexOf('\t', StringComparison.Ordinal);
            if (tab > 0)
            {
                return HelperError(text[..tab], text[(tab + 1)..], host, path);
            }
        }

        return Incomplete(host, path, "its error report was cut short", await helper.ResultAsync().ConfigureAwait(false));
    }

    /// <summary>The stream ended (or broke) before its trailer. A lost connection is rethrown as it is.</summary>
    public static async Task<Exception> EndedEarlyAsync(HelperProcess helper, string host, DatastorePath path, string what)
    {
        var r = await helper.ResultAsync().ConfigureAwait(false);
        if (r is null)
        {
            try
            {
                await helper.ReadAsync(new byte[1], CancellationToken.None).ConfigureAwait(false);
            }
            catch (CesoException e)
            {
                return e;
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                return Incomplete(host, path, what, null, e);
            }
        }

        return Incomplete(host, path, what, r);
    }

    public static CesoException Incomplete(string host, DatastorePath path, string what, SshResult? r, Exception? inner = null) =>
        new("DiskStreamIncomplete", CesoErrorKind.Connection,
            $"The disk helper for {path} on {host} stopped before the end: {what} ({HelperProcess.Describe(r)}). Nothing was lost on the host; run the backup or restore again.", inner)
        { Host = host, Target = path.ToString(), Command = HelperScripts.Command };

    public static CesoException Protocol(string host, DatastorePath path, string what) =>
        new("DiskHelperProtocol", CesoErrorKind.HostError,
            $"The disk helper for {path} on {host} sent {what}. This is a bug in Ceso's helper or the host's python; use the plain stream (no python) and report it.")
        { Host = host, Target = path.ToString(), Command = HelperScripts.Command };

    private static CesoException HelperError(string id, string message, string host, DatastorePath path)
    {
        var kind = id switch
        {
            "FileNotFound" => CesoErrorKind.NotFound,
            "DiskSizeMismatch" => CesoErrorKind.InvalidArgument,
            "HelperInputIncomplete" => CesoErrorKind.Connection,
            _ => CesoErrorKind.HostError,
        };
        var advice = id switch
        {
            "FileNotFound" => "Check the disk's path.",
            "DiskSizeMismatch" => "Give the flat file (-flat.vmdk) of that disk and its capacity from the descriptor.",
            "DatastoreFull" => "Free space on the datastore, then run it again.",
            _ => "Run it again; if it persists, look at the host's log.",
        };
        return new CesoException(id, kind, $"The disk helper on {host} failed for {path}: {message}. {advice}")
        { Host = host, Target = path.ToString(), Command = HelperScripts.Command };
    }
}

/// <summary>The host's python did not run the helper (missing, refused, not Python 3): the caller falls back.</summary>
internal sealed class HelperUnavailableException(string reason) : Exception(reason)
{
    /// <summary>What the host answered.</summary>
    public string Reason { get; } = reason;
}
