using System.Buffers;
using System.Threading.Channels;

namespace Ceso.Engine.Backup;

/// <summary>
/// One backup being written (<see cref="BackupRepository.BeginBackupAsync"/>): files and disks are added, then
/// <see cref="CommitAsync"/> saves the last pack, the index file of this backup's packs and, last, the manifest.
/// Disposing without a commit abandons the backup: its packs stay unindexed (prune removes them), no snapshot is
/// written and the lock is released. New blocks are compressed and sealed by <see cref="Environment.ProcessorCount"/>
/// workers; at most twice that many blocks wait for them, and at most two packs are being saved at once.
/// </summary>
public sealed class BackupWriter : IAsyncDisposable
{
    private const int MaxFileSize = 64 << 20;
    private readonly BackupRepository _repo;
    private readonly SnapshotHeader _header;
    private readonly RepositoryLock _lock;
    private readonly DateTimeOffset _started;
    private readonly Channel<Work> _queue;
    private readonly Task[] _workers;
    private readonly HashSet<BlobId> _pending = [];
    private readonly SemaphoreSlim _packGate = new(1, 1);
    private readonly SemaphoreSlim _uploadSlots = new(2, 2);
    private readonly List<Task> _uploads = [];
    private readonly List<IndexedPack> _saved = [];
    private readonly List<SnapshotFile> _files = [];
    private readonly List<SnapshotDisk> _disks = [];
    private PackBuilder _pack = new();
    private Exception? _failure;
    private bool _finished;
    private long _bytesRead, _bytesReceived, _blocks, _newBlobs, _newBytes;
    private DiskWriter? _openDisk;

    internal BackupWriter(BackupRepository repo, SnapshotHeader header, RepositoryLock held)
    {
        _repo = repo;
        _header = header with { ClientHost = header.ClientHost ?? Environment.MachineName, ClientUser = header.ClientUser ?? Environment.UserName };
        _lock = held;
        _started = repo.Clock.GetUtcNow();
        var workers = Math.Clamp(Environment.ProcessorCount, 1, 16);
        _queue = Channel.CreateBounded<Work>(new BoundedChannelOptions(2 * workers) { SingleWriter = true });
        _workers = [.. Enumerable.Range(0, workers).Select(_ => Task.Run(WorkAsync))];
    }

    /// <summary>The repository's block size, which every disk of this backup uses.</summary>
    public int BlockSize => _repo.BlockSize;

    /// <summary>Counts so far (safe to read from another thread, e.g. for progress).</summary>
    public BackupStatistics Statistics => new(Interlocked.Read(ref _bytesRead), Interlocked.Read(ref _bytesReceived),
        Interlocked.Read(ref _blocks), Interlocked.Read(ref _newBlobs), Interlocked.Read(ref _newBytes));

    /// <summary>Adds a small file of the VM (.vmx, .nvram, .vmsd; at most 64 MiB) as one blob.</summary>
    public async Task AddFileAsync(string name, ReadOnlyMemory<byte> bytes, CancellationToken ct = default)
    {
        ThrowIfDone();
        if (bytes.Length > MaxFileSize) throw BackupErrors.Invalid($"'{name}' is {bytes.Length} bytes; files kept whole are at most {MaxFileSize >> 20} MiB.");
        if (_files.Any(f => f.Name == name)) throw BackupErrors.Invalid($"The file '{name}' was already added to this backup.");
        var hash = BlockHash.Of(bytes.Span);
        await AddBlobAsync(hash, bytes, bytes.Length, ct).ConfigureAwait(false);
        _files.Add(new SnapshotFile(name, bytes.Length, hash));
    }

    /// <summary>
    /// Starts a disk of <paramref name="capacity"/> bytes, cut in <see cref="BlockSize"/> blocks. One disk at a time:
    /// complete it before the next.
    /// </summary>
    public DiskWriter BeginDisk(string name, long capacity)
    {
        ThrowIfDone();
        if (_openDisk is not null) throw BackupErrors.State("BackupDiskOpen", $"Complete the disk '{_openDisk.Name}' before starting '{name}'.");
        if (capacity <= 0) throw BackupErrors.Invalid($"The disk '{name}' has capacity {capacity}; a disk has a positive size.");
        if (_disks.Any(d => d.Name == name)) throw BackupErrors.Invalid($"The disk '{name}' was already added to this backup.");
        return _openDisk = new DiskWriter(this, name, capacity, BlockSize);
    }

    internal void DiskCompleted(DiskWriter disk, IReadOnlyList<BlockRef> blocks)
    {
        _disks.Add(new SnapshotDisk(disk.Name, disk.Capacity, BlockSize, blocks));
        _openDisk = null;
    }

    /// <summary>
    /// Takes one blob: counted, deduplicated against the repository and this backup, queued for the workers when new.
    /// <paramref name="data"/> null means the reader skipped it as known: it must be in the repository.
    /// </summary>
    internal async Task AddBlobAsync(BlockHash hash, ReadOnlyMemory<byte>? data, int length, CancellationToken ct)
    {
        ThrowIfFailed();
        var id = _repo.Keys.IdOf(hash);
        Interlocked.Add(ref _bytesRead, length);
        Interlocked.Increment(ref _blocks);
        if (data is null)
        {
            if (!_repo.Index.Contains(id) && !_pending.Contains(id))
            {
                throw new CesoException("BlockMissing", CesoErrorKind.InvalidState,
                    $"The reader skipped a block with hash {hash.ToString()[..16]} as known, but the repository '{_repo.Backend.Location}' does not hold it. Back up again without skipping (a full read).")
                { Target = hash.ToString() };
            }

            return;
        }

        Interlocked.Add(ref _bytesReceived, data.Value.Length);
        if (_repo.Index.Contains(id) || !_pending.Add(id)) return;
        var copy = ArrayPool<byte>.Shared.Rent(data.Value.Length);
        data.Value.Span.CopyTo(copy);
        try
        {
            await _queue.Writer.WriteAsync(new Work(id, hash, copy, data.Value.Length), ct).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            ArrayPool<byte>.Shared.Return(copy);
            ThrowIfFailed();
            throw;
        }
    }

    private async Task WorkAsync()
    {
        await foreach (var work in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                if (_failure is not null) continue;
                var data = work.Buffer.AsSpan(0, work.Length);
                if (BlockHash.Of(data) != work.Hash)
                {
                    throw new CesoException("BlockHashMismatch", CesoErrorKind.InvalidState,
                        $"A block's bytes do not hash to the hash the reader gave ({work.Hash.ToString()[..16]}); the read is unreliable, nothing was stored for it.");
                }

                var compressed = Zstd.TryCompress(data);
                var sealedBlob = _repo.Keys.SealBlob(compressed ?? data, work.Id);
                await AppendAsync(work.Id, compressed is not null, sealedBlob, work.Length).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Fail(ex);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(work.Buffer);
            }
        }
    }

    private async Task AppendAsync(BlobId id, bool compressed, byte[] sealedBlob, int rawLength)
    {
        PackBuilder? full = null;
        await _packGate.WaitAsync().ConfigureAwait(false);
        try
        {
            _pack.Add(id, compressed, sealedBlob, rawLength);
            Interlocked.Increment(ref _newBlobs);
            Interlocked.Add(ref _newBytes, sealedBlob.Length);
            if (_pack.Size >= _repo.PackSize)
            {
                full = _pack;
                _pack = new PackBuilder();
            }
        }
        finally
        {
            _packGate.Release();
        }

        if (full is not null) await StartUploadAsync(full).ConfigureAwait(false);
    }

    private async Task StartUploadAsync(PackBuilder pack)
    {
        await _uploadSlots.WaitAsync().ConfigureAwait(false);
        var upload = Task.Run(async () =>
        {
            try
            {
                var (name, bytes, entries) = pack.Finish(_repo.Keys);
                await _repo.Backend.SaveAsync(FileKind.Pack, name, new MemoryStream(bytes), CancellationToken.None).ConfigureAwait(false);
                lock (_saved) _saved.Add(new IndexedPack(name, bytes.Length, entries));
            }
            catch (Exception ex)
            {
                Fail(ex);
            }
            finally
            {
                _uploadSlots.Release();
            }
        });
        lock (_uploads) _uploads.Add(upload);
    }

    private void Fail(Exception ex)
    {
        Interlocked.CompareExchange(ref _failure, ex, null);
        _queue.Writer.TryComplete();
    }

    private void ThrowIfFailed()
    {
        if (_failure is { } failure)
        {
            throw failure as CesoException ?? new CesoException("BackupWriteFailed", CesoErrorKind.HostError,
                $"Writing the backup to '{_repo.Backend.Location}' failed: {failure.Message}", failure);
        }
    }

    private void ThrowIfDone()
    {
        if (_finished) throw BackupErrors.State("BackupFinished", "This backup was already committed or abandoned.");
        ThrowIfFailed();
    }

    /// <summary>
    /// Finishes the backup: waits for the workers, saves the last pack, writes this backup's index file, then the
    /// manifest (the snapshot exists only from that moment), and releases the lock.
    /// </summary>
    public async Task<BackupSnapshot> CommitAsync(CancellationToken ct = default)
    {
        ThrowIfDone();
        if (_openDisk is not null) throw BackupErrors.State("BackupDiskOpen", $"Complete the disk '{_openDisk.Name}' before committing.");
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers).ConfigureAwait(false);
        ThrowIfFailed();
        if (_pack.Count > 0) await StartUploadAsync(_pack).ConfigureAwait(false);
        _pack = new PackBuilder();
        Task[] uploads;
        lock (_uploads) uploads = [.. _uploads];
        await Task.WhenAll(uploads).ConfigureAwait(false);
        ThrowIfFailed();
        _finished = true;
        try
        {
            if (_saved.Count > 0)
            {
                var indexName = await _repo.SaveIndexAsync(new IndexFile([], _saved), ct).ConfigureAwait(false);
                _repo.AddToIndex(_saved, indexName);
            }

            var payload = ManifestCodec.Encode(_started, _header, _files, _disks, Statistics);
            var id = await _repo.SaveManifestAsync(payload, ct).ConfigureAwait(false);
            return (await _repo.LoadManifestAsync(id, ct).ConfigureAwait(false)).ToSummary();
        }
        finally
        {
            await _lock.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Abandons an uncommitted backup (no snapshot) and releases the lock.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_workers).ConfigureAwait(false);
            Task[] uploads;
            lock (_uploads) uploads = [.. _uploads];
            await Task.WhenAll(uploads).ConfigureAwait(false);
        }
        finally
        {
            if (!_finished)
            {
                _finished = true;
                await _lock.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private readonly record struct Work(BlobId Id, BlockHash Hash, byte[] Buffer, int Length);
}
