namespace Ceso.Engine.Backup;

/// <summary>
/// One disk of a backup (<see cref="BackupWriter.BeginDisk"/>): blocks arrive in ascending index order, each
/// <see cref="BlockSize"/> long except a short last one; indexes not given are zeros.
/// </summary>
public sealed class DiskWriter
{
    private readonly BackupWriter _writer;
    private readonly List<BlockRef> _blocks = [];
    private long _next;
    private bool _complete;

    internal DiskWriter(BackupWriter writer, string name, long capacity, int blockSize)
    {
        _writer = writer;
        Name = name;
        Capacity = capacity;
        BlockSize = blockSize;
    }

    /// <summary>The disk's datastore path.</summary>
    public string Name { get; }

    /// <summary>The disk's size in bytes.</summary>
    public long Capacity { get; }

    /// <summary>The block size.</summary>
    public int BlockSize { get; }

    /// <summary>The number of blocks the capacity spans (the last may be short).</summary>
    public long BlockCount => (Capacity + BlockSize - 1) / BlockSize;

    /// <summary>
    /// Adds a non-zero block. With <see cref="DiskBlock.Data"/> null the repository must already hold a block of that
    /// hash (<c>BlockMissing</c> otherwise). The bytes are copied before this returns.
    /// </summary>
    public async Task AddBlockAsync(DiskBlock block, CancellationToken ct = default)
    {
        if (_complete) throw BackupErrors.State("BackupDiskComplete", $"The disk '{Name}' is already complete.");
        if (block.Index < _next || block.Index >= BlockCount)
        {
            throw BackupErrors.Invalid($"Block {block.Index} of disk '{Name}' is out of order or past its end (next {_next}, {BlockCount} blocks).");
        }

        var length = (int)Math.Min(BlockSize, Capacity - block.Index * BlockSize);
        if (block.Data is { } data && data.Length != length)
        {
            var hint = data.Length == 0 ? " A skipped block has Data = null; note that 'known ? null : memory' yields an empty memory, not null: cast the null to ReadOnlyMemory<byte>?." : "";
            throw BackupErrors.Invalid($"Block {block.Index} of disk '{Name}' is {data.Length} bytes; it must be {length}.{hint}");
        }

        if (block.Data is { } bytes && !bytes.Span.ContainsAnyExcept((byte)0))
        {
            _next = block.Index + 1;
            return; // all zeros: never stored, a missing index means zeros
        }

        await _writer.AddBlobAsync(block.Hash, block.Data, length, ct).ConfigureAwait(false);
        _blocks.Add(new BlockRef(block.Index, block.Hash));
        _next = block.Index + 1;
    }

    /// <summary>Ends the disk; its block list becomes part of the manifest at commit.</summary>
    public Task CompleteAsync(CancellationToken ct = default)
    {
        if (_complete) return Task.CompletedTask;
        _complete = true;
        _writer.DiskCompleted(this, _blocks);
        return Task.CompletedTask;
    }
}
