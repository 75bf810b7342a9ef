using Ceso.Engine.Backup;

namespace Ceso.Tests.Backup;

/// <summary>
/// The S3 backend against the real Swift behind a <see cref="FaultProxy"/>: dropped connections and 5xx answers are
/// <c>RepositoryUnavailable</c>, <see cref="RetryingBackend"/> cures them, and a failed save never leaves a visible
/// object or a dangling multipart upload.
/// </summary>
[Collection(SwiftCollection.Name)]
public sealed class S3BackendFaultTests(SwiftServer swift) : IAsyncLifetime
{
    private static readonly RetryPolicy Fast = new() { Attempts = 5, FirstDelay = TimeSpan.FromMilliseconds(20), MaxDelay = TimeSpan.FromMilliseconds(100), CallTimeout = TimeSpan.FromSeconds(20) };
    private FaultProxy _proxy = null!;
    private S3Backend _direct = null!;
    private S3Backend _proxied = null!;
    private string _bucket = "";

    public async Task InitializeAsync()
    {
        _proxy = new FaultProxy(swift.Endpoint);
        _bucket = SwiftServer.NewBucket("f");
        var options = swift.Options(_bucket) with { MultipartThreshold = S3BackendOptions.MinPartSize, PartSize = S3BackendOptions.MinPartSize };
        _direct = new S3Backend(options);
        _proxied = new S3Backend(options with { Endpoint = _proxy.Endpoint });
        await _direct.EnsureBucketAsync();
    }

    public async Task DisposeAsync()
    {
        _direct.Dispose();
        _proxied.Dispose();
        await _proxy.DisposeAsync();
    }

    [Fact(Timeout = 30_000)]
    public async Task A_connection_dropped_mid_upload_is_retried_and_the_file_arrives_complete()
    {
        var name = "c1" + new string('0', 62);
        var data = Bytes(2 << 20, 1);
        _proxy.CutNext(1, 256 << 10, FaultProxy.BodyOver(1 << 20));
        var retrying = new RetryingBackend(_proxied, Fast);

        await retrying.SaveAsync(FileKind.Pack, name, new MemoryStream(data));

        Assert.Equal(1, retrying.Retries);
        Assert.Equal(2, _proxy.Seen.Count(r => r.Method == "PUT" && r.Target.EndsWith(name, StringComparison.Ordinal)));
        Assert.True((await ReadAsync(name)).AsSpan().SequenceEqual(data));
    }

    [Fact(Timeout = 30_000)]
    public async Task Without_retry_a_dropped_upload_is_RepositoryUnavailable_and_nothing_is_listed()
    {
        var name = "c2" + new string('0', 62);
        _proxy.CutNext(1, 256 << 10, FaultProxy.BodyOver(1 << 20));

        var ex = await Disks.ThrowsCeso("RepositoryUnavailable", () => _proxied.SaveAsync(FileKind.Pack, name, new MemoryStream(Bytes(2 << 20, 2))));

        Assert.Equal(Ceso.Engine.CesoErrorKind.Connection, ex.Kind);
        Assert.DoesNotContain(await _direct.ListAsync(FileKind.Pack).ToListAsync(), f => f.Name == name);
        Assert.Null(await _direct.StatAsync(FileKind.Pack, name));
    }

    [Fact(Timeout = 30_000)]
    public async Task A_server_answering_503_and_500_for_a_while_is_retried_for_saves_and_reads()
    {
        var name = "c3" + new string('0', 62);
        var data = Bytes(300_000, 3);
        var retrying = new RetryingBackend(_proxied, Fast);

        _proxy.FailNext(3, 503);
        await retrying.SaveAsync(FileKind.Pack, name, new MemoryStream(data));
        _proxy.FailNext(2, 500);
        await using var read = await retrying.OpenAsync(FileKind.Pack, name, 1000, 5000);
        var got = new byte[5000];
        await read.ReadExactlyAsync(got);

        Assert.Equal(5, retrying.Retries);
        Assert.Equal(data.AsSpan(1000, 5000).ToArray(), got);
        Assert.True((await ReadAsync(name)).AsSpan().SequenceEqual(data));

        _proxy.FailNext(1, 503, r => r.Method == "PUT");
        await Disks.ThrowsCeso("RepositoryUnavailable", () => _proxied.SaveAsync(FileKind.Index, "c4" + new string('0', 62), new MemoryStream(data)));
        _proxy.FailNext(1, 500);
        await Disks.ThrowsCeso("RepositoryUnavailable", () => _proxied.ListAsync(FileKind.Index).ToListAsync().AsTask());
        Assert.Empty(await _direct.ListAsync(FileKind.Index).ToListAsync());
    }

    [Fact(Timeout = 60_000)]
    public async Task An_interrupted_multipart_upload_leaves_no_object_and_no_upload_in_progress()
    {
        var name = "c5" + new string('0', 62);
        var data = Bytes((12 << 20) + 5, 5); // three parts
        bool SecondPart(ProxiedRequest r) => r.Method == "PUT" && r.Target.Contains("partNumber=2", StringComparison.Ordinal);

        _proxy.CutNext(1, 1 << 20, SecondPart);
        await Disks.ThrowsCeso("RepositoryUnavailable", () => _proxied.SaveAsync(FileKind.Pack, name, new MemoryStream(data)));

        Assert.Null(await _direct.StatAsync(FileKind.Pack, name));
        Assert.DoesNotContain(await _direct.ListAsync(FileKind.Pack).ToListAsync(), f => f.Name == name);
        Assert.Empty(await swift.UploadsInProgressAsync(_bucket));

        _proxy.CutNext(1, 1 << 20, SecondPart);
        var retrying = new RetryingBackend(_proxied, Fast);
        await retrying.SaveAsync(FileKind.Pack, name, new MemoryStream(data));

        Assert.Equal(1, retrying.Retries);
        Assert.True((await ReadAsync(name)).AsSpan().SequenceEqual(data));
        Assert.Empty(await swift.UploadsInProgressAsync(_bucket));
    }

    private static byte[] Bytes(int size, int seed)
    {
        var b = new byte[size];
        new Random(seed).NextBytes(b);
        return b;
    }

    private async Task<byte[]> ReadAsync(string pack)
    {
        await using var s = await _direct.OpenAsync(FileKind.Pack, pack);
        var m = new MemoryStream();
        await s.CopyToAsync(m);
        return m.ToArray();
    }
}
