using Amazon.S3.Model;
using Ceso.Engine;
using Ceso.Engine.Backup;

namespace Ceso.Tests.Backup;

/// <summary>
/// The S3 backend against a real S3-compatible server (OpenStack Swift's s3api): the conformance suite with parts of
/// 5 MiB and listing pages of 3 (so both multipart uploads and paging are exercised), then what only S3 has.
/// </summary>
[Collection(SwiftCollection.Name)]
public sealed class S3BackendTests(SwiftServer swift) : BackupBackendConformanceTests, IDisposable
{
    private const long Part = S3BackendOptions.MinPartSize;
    private readonly List<S3Backend> _backends = [];

    public void Dispose() => _backends.ForEach(b => b.Dispose());

    protected override IBackupBackend Create() => New(Options());

    [Fact(Timeout = 30_000)]
    public async Task Files_keep_the_directory_layout_under_the_prefix_and_foreign_keys_are_not_listed()
    {
        var options = Options() with { Prefix = "/backups/vm01/" };
        var b = New(options);
        var pack = "ab" + new string('1', 62);
        await b.SaveAsync(FileKind.Config, "config", new MemoryStream([1]));
        await b.SaveAsync(FileKind.Pack, pack, new MemoryStream([2]));
        await b.SaveAsync(FileKind.Key, "k1", new MemoryStream([3]));
        using var client = swift.Client();
        foreach (var foreign in new[] { "backups/vm01/data/abc", "backups/vm01/keys/sub/k2", "backups/vm01/keys/.tmp-1", "backups/other/keys/k3" })
        {
            await client.PutObjectAsync(new PutObjectRequest { BucketName = options.Bucket, Key = foreign, ContentBody = "x", UseChunkEncoding = false });
        }

        var keys = (await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = options.Bucket, Prefix = "backups/vm01/" })).S3Objects.Select(o => o.Key);

        Assert.Superset(new HashSet<string> { "backups/vm01/config", $"backups/vm01/data/ab/{pack}", "backups/vm01/keys/k1" }, keys.ToHashSet());
        Assert.Equal([new BackendFile(pack, 1)], await b.ListAsync(FileKind.Pack).ToListAsync());
        Assert.Equal([new BackendFile("k1", 1)], await b.ListAsync(FileKind.Key).ToListAsync());
        Assert.Equal([new BackendFile("config", 1)], await b.ListAsync(FileKind.Config).ToListAsync());
        Assert.Equal($"s3:{swift.Endpoint.Scheme}://{swift.Endpoint.Authority}/{options.Bucket}/backups/vm01", b.Location);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_listing_in_pages_of_two_gives_every_file_once()
    {
        await using var proxy = new FaultProxy(swift.Endpoint);
        var b = New(Options(proxy.Endpoint) with { ListPageSize = 2 });
        var names = Enumerable.Range(0, 7).Select(i => $"{i:x64}").ToList();
        foreach (var name in names)
        {
            await b.SaveAsync(FileKind.Snapshot, name, new MemoryStream([(byte)name[^1]]));
        }

        var listed = await b.ListAsync(FileKind.Snapshot).ToListAsync();

        Assert.Equal(names, listed.Select(f => f.Name).Order());
        Assert.Equal(4, proxy.Seen.Count(r => r.Method == "GET" && r.Target.Contains("list-type=2", StringComparison.Ordinal)));
    }

    [Fact(Timeout = 30_000)]
    public async Task Wrong_credentials_are_RepositoryAccessDenied_and_nothing_is_written()
    {
        var good = Options();
        await New(good).SaveAsync(FileKind.Key, "k0", new MemoryStream([0])); // the bucket exists
        var bad = New(good with { Credentials = S3Credentials.FromKeys(swift.AccessKey, "not-the-secret"), CreateBucket = false });

        var ex = await Disks.ThrowsCeso("RepositoryAccessDenied", () => bad.SaveAsync(FileKind.Key, "k1", new MemoryStream([1])));
        await Disks.ThrowsCeso("RepositoryAccessDenied", () => bad.ListAsync(FileKind.Key).ToListAsync().AsTask());
        await Disks.ThrowsCeso("RepositoryAccessDenied", () => bad.OpenAsync(FileKind.Key, "k0"));

        Assert.Equal(CesoErrorKind.Security, ex.Kind);
        Assert.Equal([new BackendFile("k0", 1)], await New(good).ListAsync(FileKind.Key).ToListAsync());
    }

    [Fact(Timeout = 30_000)]
    public async Task No_error_message_holds_the_secret_key_or_the_session_token()
    {
        const string secret = "sEcReT-9f8e7d6c5b4a", token = "ToKeN-0a1b2c3d4e5f";
        var bad = New(Options() with { Credentials = S3Credentials.FromKeys(swift.AccessKey, secret, token) });
        var closedPort = new Uri("http://127.0.0.1:9"); // discard: nothing listens
        var unreachable = New(Options(closedPort) with { Credentials = S3Credentials.FromKeys(swift.AccessKey, secret, token) });
        var errors = new List<CesoException>();
        foreach (var b in new[] { bad, unreachable })
        {
            foreach (var call in new Func<Task>[]
                     {
                         () => b.SaveAsync(FileKind.Key, "k1", new MemoryStream([1])),
                         () => b.SaveAsync(FileKind.Pack, "ab" + new string('2', 62), new MemoryStream(new byte[(6 << 20) + 1])),
                         () => b.OpenAsync(FileKind.Key, "k1", 0, 1),
                         () => b.StatAsync(FileKind.Key, "k1"),
                         () => b.ListAsync(FileKind.Key).ToListAsync().AsTask(),
                         () => b.RemoveAsync(FileKind.Key, "k1"),
                     })
            {
                errors.Add(await Assert.ThrowsAnyAsync<CesoException>(call));
            }
        }

        Assert.All(errors, e => Assert.True(e.ErrorId is "RepositoryAccessDenied" or "RepositoryUnavailable", e.ErrorId));
        foreach (var e in errors)
        {
            for (Exception? x = e; x is not null; x = x.InnerException)
            {
                Assert.DoesNotContain(secret, x.Message, StringComparison.Ordinal);
                Assert.DoesNotContain(token, x.Message, StringComparison.Ordinal);
            }

            Assert.DoesNotContain(secret, e.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task A_full_target_is_RepositoryFull_and_nothing_partial_is_visible()
    {
        var options = Options();
        var b = New(options);
        await b.SaveAsync(FileKind.Key, "k0", new MemoryStream(new byte[1000])); // creates the bucket
        await swift.SetQuotaAsync(options.Bucket, 256 << 10);
        var single = new byte[1 << 20];
        var multipart = new byte[(11 << 20) + 7];

        var ex = await Disks.ThrowsCeso("RepositoryFull", () => b.SaveAsync(FileKind.Pack, "f1" + new string('0', 62), new MemoryStream(single)));
        await Disks.ThrowsCeso("RepositoryFull", () => b.SaveAsync(FileKind.Pack, "f2" + new string('0', 62), new MemoryStream(multipart)));
        await b.SaveAsync(FileKind.Key, "k1", new MemoryStream(new byte[1000])); // what fits still goes

        Assert.Equal(CesoErrorKind.InvalidState, ex.Kind);
        Assert.Empty(await b.ListAsync(FileKind.Pack).ToListAsync());
        Assert.Null(await b.StatAsync(FileKind.Pack, "f2" + new string('0', 62)));
        Assert.Empty(await swift.UploadsInProgressAsync(options.Bucket));
        Assert.Equal(2, (await b.ListAsync(FileKind.Key).ToListAsync()).Count);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_missing_bucket_is_RepositoryBucketMissing_unless_the_options_create_it()
    {
        var options = Options() with { CreateBucket = false };
        var b = New(options);

        await Disks.ThrowsCeso("RepositoryBucketMissing", () => b.SaveAsync(FileKind.Key, "k1", new MemoryStream([1])));
        await Disks.ThrowsCeso("RepositoryBucketMissing", () => b.OpenAsync(FileKind.Key, "k1"));
        await Disks.ThrowsCeso("RepositoryBucketMissing", () => b.ListAsync(FileKind.Key).ToListAsync().AsTask());
        await Disks.ThrowsCeso("RepositoryBucketMissing", () => b.EnsureBucketAsync());
        Assert.Null(await b.StatAsync(FileKind.Key, "k1")); // a HEAD's 404 does not say which is missing

        var creating = New(options with { CreateBucket = true });
        await creating.SaveAsync(FileKind.Key, "k1", new MemoryStream([1]));
        Assert.Equal(1, await b.StatAsync(FileKind.Key, "k1"));
    }

    [Fact]
    public void Options_that_cannot_work_are_refused_before_any_request()
    {
        Assert.Equal("BackupInvalidArgument", Assert.Throws<CesoException>(() => new S3Backend(Options() with { Credentials = null })).ErrorId);
        Assert.Equal("BackupInvalidArgument", Assert.Throws<CesoException>(() => new S3Backend(Options() with { PartSize = 1 << 20 })).ErrorId);
        Assert.Equal("BackupInvalidArgument", Assert.Throws<CesoException>(() => new S3Backend(Options() with { Bucket = "a/b" })).ErrorId);
    }

    [Fact]
    public void Credentials_come_from_the_AWS_variables_and_never_from_instance_metadata()
    {
        var keys = S3Credentials.Resolve(new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = "AKID", ["AWS_SECRET_ACCESS_KEY"] = "s", ["AWS_SESSION_TOKEN"] = "t" })!.GetCredentials();
        Assert.Equal(("AKID", "s", "t"), (keys.AccessKey, keys.SecretKey, keys.Token));

        var dir = Directory.CreateTempSubdirectory("ceso-aws-").FullName;
        try
        {
            var file = Path.Combine(dir, "credentials");
            File.WriteAllText(file, "[ci]\naws_access_key_id = AKPROFILE\naws_secret_access_key = sp\n[imds]\nrole_arn = arn:aws:iam::123456789012:role/r\ncredential_source = Ec2InstanceMetadata\n");
            var env = new Dictionary<string, string?> { ["AWS_PROFILE"] = "ci", ["AWS_SHARED_CREDENTIALS_FILE"] = file };
            Assert.Equal("AKPROFILE", S3Credentials.Resolve(env)!.GetCredentials().AccessKey);
            Assert.Null(S3Credentials.Resolve(new Dictionary<string, string?>(env) { ["AWS_PROFILE"] = "nosuch" }));
            Assert.Equal("BackupInvalidArgument", Assert.Throws<CesoException>(() => S3Credentials.Resolve(new Dictionary<string, string?>(env) { ["AWS_PROFILE"] = "imds" })).ErrorId);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private S3BackendOptions Options(Uri? endpoint = null) =>
        swift.Options(SwiftServer.NewBucket(), endpoint) with { MultipartThreshold = Part, PartSize = Part, ListPageSize = 3 };

    private S3Backend New(S3BackendOptions options)
    {
        var b = new S3Backend(options);
        _backends.Add(b);
        return b;
    }
}
