using System.Buffers.Binary;
using System.Text.Json;

namespace Ceso.Engine.Backup;

/// <summary>
/// Snapshot manifests as stored: JSON (camelCase) whose disks carry their block list as base64 of packed
/// <c>index i64 LE | hash 32 bytes</c> records, in a <see cref="SealedFile"/> with purpose <c>ceso:snapshot</c>.
/// </summary>
internal static class ManifestCodec
{
    public const string Purpose = "ceso:snapshot";
    private const int RecordSize = 8 + BlockHash.Size;

    private sealed record Dto(int Version, DateTimeOffset Time, string VmName, string VmId, string Host, BackupMode Mode,
        string[] Tags, string? Vmx, string? ClientHost, string? ClientUser, FileDto[] Files, DiskDto[] Disks, BackupStatistics Statistics);

    private sealed record FileDto(string Name, long Size, string Hash);

    private sealed record DiskDto(string Name, long Capacity, int BlockSize, int BlockCount, string Blocks);

    public static byte[] Encode(DateTimeOffset time, SnapshotHeader h, IReadOnlyList<SnapshotFile> files, IReadOnlyList<SnapshotDisk> disks, BackupStatistics stats)
    {
        var dto = new Dto(1, time.ToUniversalTime(), h.VmName, h.VmId, h.Host, h.Mode, [.. h.Tags], h.VmxText, h.ClientHost, h.ClientUser,
            [.. files.Select(f => new FileDto(f.Name, f.Size, f.Hash.ToString()))],
            [.. disks.Select(d => new DiskDto(d.Name, d.Capacity, d.BlockSize, d.Blocks.Count, Convert.ToBase64String(PackBlocks(d.Blocks))))],
            stats);
        return JsonSerializer.SerializeToUtf8Bytes(dto, Json.Options);
    }

    public static SnapshotManifest Decode(ReadOnlySpan<byte> payload, string id)
    {
        var what = $"snapshot '{id[..8]}'";
        Dto? dto;
        try
        {
            dto = JsonSerializer.Deserialize<Dto>(payload, Json.Options);
        }
        catch (JsonException ex)
        {
            throw BackupErrors.Corrupt(what, "is not valid JSON", ex);
        }

        if (dto is null || dto.Version != 1 || dto.Files is null || dto.Disks is null || dto.Statistics is null || dto.Tags is null)
        {
            throw BackupErrors.Corrupt(what, "has a layout this Ceso does not read");
        }

        var header = new SnapshotHeader(dto.VmName, dto.VmId, dto.Host, dto.Mode, dto.Tags, dto.Vmx) { ClientHost = dto.ClientHost, ClientUser = dto.ClientUser };
        var disks = new List<SnapshotDisk>();
        foreach (var d in dto.Disks)
        {
            byte[] packed;
            try
            {
                packed = Convert.FromBase64String(d.Blocks);
            }
            catch (FormatException ex)
            {
                throw BackupErrors.Corrupt(what, $"has a damaged block list for disk '{d.Name}'", ex);
            }

            if (packed.Length != d.BlockCount * RecordSize) throw BackupErrors.Corrupt(what, $"has a block list of the wrong length for disk '{d.Name}'");
            disks.Add(new SnapshotDisk(d.Name, d.Capacity, d.BlockSize, UnpackBlocks(packed)));
        }

        return new SnapshotManifest
        {
            Id = id,
            Time = dto.Time,
            Header = header,
            Files = [.. dto.Files.Select(f => new SnapshotFile(f.Name, f.Size, BlockHash.Parse(f.Hash)))],
            Disks = disks,
            Statistics = dto.Statistics,
        };
    }

    private static byte[] PackBlocks(IReadOnlyList<BlockRef> blocks)
    {
        var bytes = new byte[blocks.Count * RecordSize];
        for (var i = 0; i < blocks.Count; i++)
        {
            var span = bytes.AsSpan(i * RecordSize);
            BinaryPrimitives.WriteInt64LittleEndian(span, blocks[i].Index);
            blocks[i].Hash.WriteTo(span[8..]);
        }

        return bytes;
    }

    private static BlockRef[] UnpackBlocks(byte[] bytes)
    {
        var blocks = new BlockRef[bytes.Length / RecordSize];
        for (var i = 0; i < blocks.Length; i++)
        {
            var span = bytes.AsSpan(i * RecordSize, RecordSize);
            blocks[i] = new BlockRef(BinaryPrimitives.ReadInt64LittleEndian(span), BlockHash.FromBytes(span[8..]));
        }

        return blocks;
    }
}
