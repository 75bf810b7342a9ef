using System.Globalization;
using Ceso.Engine.Formats;
using Ceso.Engine.Ssh;

namespace Ceso.Engine.Hosts;

/// <summary>
/// Datastore files through the host's shell. Small answers (exists, size, a .vmx) come over the persistent framed
/// shell; bulk bytes run on ssh processes of their own (<see cref="SshSession.StreamAsync"/>) so that a 100 GB read
/// never holds up the shell. Reads are ranged with dd (<see cref="SshFileCommands.RangedRead"/>); writes stream into
/// <c>cat &gt; temp</c> and the shell renames the temporary file over the target only after the stream ended well
/// and the size is right.
/// </summary>
public sealed class SshFiles(SshSession ssh, string host) : IHostFiles
{
    /// <inheritdoc />
    public string Transport => "ssh";

    /// <inheritdoc />
    public async Task<bool> ExistsAsync(DatastorePath path, CancellationToken ct = default) =>
        (await ssh.RunAsync(SshFileCommands.Exists(path), ct).ConfigureAwait(false)).ExitCode == 0;

    /// <inheritdoc />
    public async Task<HostFileInfo> StatAsync(DatastorePath path, CancellationToken ct = default)
    {
        var r = await ssh.RunAsync(SshFileCommands.Stat(path), ct).ConfigureAwait(false);
        if (r.ExitCode == 3)
        {
            throw HostFileErrors.NotFound(host, path);
        }

        r.EnsureSuccess(host);
        if (!long.TryParse(r.Stdout.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            throw new CesoException("UnexpectedHostOutput", CesoErrorKind.HostError,
                $"'{r.CommandLine}' on {host} printed '{r.Stdout.Trim()}' where a size was expected.") { Host = host, Command = r.CommandLine };
        }

        return new HostFileInfo(path, size);
    }

    /// <inheritdoc />
    public async Task<string> ReadTextAsync(DatastorePath path, CancellationToken ct = default) =>
        (await ssh.RunAsync(SshFileCommands.Cat(path), ct).ConfigureAwait(false)).EnsureSuccess(host).Stdout;

    /// <inheritdoc />
    public async Task<Stream> OpenReadAsync(DatastorePath path, long offset = 0, long? length = null, CancellationToken ct = default)
    {
        HostFileErrors.CheckRange(offset, length);
        var size = (await StatAsync(path, ct).ConfigureAwait(false)).Size;
        if (offset > size)
        {
            throw HostFileErrors.RangeNotSatisfiable(host, path, offset, size);
        }

        var end = length is { } l ? Math.Min(size, offset + l) : size;
        var pipe = new ChunkPipe();
        var stop = new CancellationTokenSource();
        if (end == offset)
        {
            pipe.Complete();
            return new TransferReadStream(pipe, stop, Task.CompletedTask, 0, $"{path} on {host}");
        }

        var command = SshFileCommands.RangedRead(path, offset, end, size);
        var producer = Task.Run(async () =>
        {
            try
            {
                var r = await ssh.StreamAsync(command, null, pipe.AsWriteStream(), stop.Token).ConfigureAwait(false);
                r.EnsureSuccess(host);
                pipe.Complete();
            }
            catch (Exception e)
            {
                pipe.Complete(e);
            }
        }, CancellationToken.None);
        return new TransferReadStream(pipe, stop, producer, end - offset, $"'{command}' on {host}");
    }

    /// <inheritdoc />
    public async Task WriteAsync(DatastorePath path, Stream source, long? length = null, IProgress<long>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var temp = HostFileErrors.TempFor(path);
        var counted = new ProgressReadStream(source, progress);
        try
        {
            // A small file (an .nvram) goes through the persistent shell as one printf of octal escapes: no ssh process
            // of its own (a handshake costs ~0.35 s), and printf is an ash builtin, so no argument-length limit.
            SshResult r;
            if (length is { } small && small <= SmallFileLimit)
            {
                var line = SshFileCommands.PrintBytes(await ReadAllAsync(counted, small, ct).ConfigureAwait(false), temp);
                try
                {
                    r = await ssh.RunAsync(line, ct).ConfigureAwait(false);
                }
                catch (SshConnectionException e) when (e.Message.Contains(line, StringComparison.Ordinal))
                {
                    // The line is the file's content: an error says where it was going instead.
                    throw new SshConnectionException(e.ErrorId, e.Message.Replace(line, $"printf <{small} bytes> > {temp.Vmfs}", StringComparison.Ordinal), e.InnerException) { Host = e.Host };
                }
            }
            else
            {
                r = await ssh.StreamAsync(SshFileCommands.Receive(temp), counted, null, ct).ConfigureAwait(false);
            }
            if (r.ExitCode != 0)
            {
                throw WriteFailed(path, r);
            }

            if (length is { } n && counted.Total != n)
            {
                throw new CesoException("FileWriteIncomplete", CesoErrorKind.InvalidArgument,
                    $"The source for {path} gave {counted.Total} bytes where {n} were announced; nothing was written to {host}.") { Host = host, Target = path.ToString() };
            }

            var commit = await ssh.RunAsync(SshFileCommands.Commit(temp, path, counted.Total), ct).ConfigureAwait(false);
            if (commit.ExitCode != 0)
            {
                throw WriteFailed(path, commit);
            }
        }
        catch
        {
            await RemoveQuietlyAsync(temp).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Files up to this size are written through the persistent shell instead of a stream of their own.</summary>
    internal const int SmallFileLimit = 64 * 1024;

    private static async Task<byte[]> ReadAllAsync(Stream source, long announced, CancellationToken ct)
    {
        var buffer = new MemoryStream((int)announced);
        await source.CopyToAsync(buffer, ct).ConfigureAwait(false);
        return buffer.ToArray(); // a source longer than announced is caught by the length check after the write
    }

    /// <inheritdoc />
    public async Task DeleteAsync(DatastorePath path, CancellationToken ct = default) =>
        (await ssh.RunAsync(SshFileCommands.Remove(path), ct).ConfigureAwait(false)).EnsureSuccess(host);

    private CesoException WriteFailed(DatastorePath path, SshResult r)
    {
        var why = r.Stderr.Trim().Length > 0 ? r.Stderr.Trim() : $"exit code {r.ExitCode}";
        var full = why.Contains("No space left", StringComparison.OrdinalIgnoreCase);
        return new CesoException(full ? "DatastoreFull" : "DatastoreWriteFailed", CesoErrorKind.HostError,
            full ? $"{host} has no space left on [{path.Datastore}] for {path}: {why}. Free space on the datastore, then write again."
                 : $"Writing {path} on {host} failed ('{r.CommandLine}': {why}); the file is as it was.")
        { Host = host, Command = r.CommandLine, Target = path.ToString() };
    }

    // After a failed or cancelled write: the temporary file must not stay. Not under the caller's token (it may be
    // the one that was cancelled), bounded in time.
    private async Task RemoveQuietlyAsync(DatastorePath temp)
    {
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await ssh.RunAsync(SshFileCommands.Remove(temp), grace.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is CesoException or OperationCanceledException)
        {
            // the host is unreachable: the temporary file (a hidden .part name) is all that is left
        }
    }
}
