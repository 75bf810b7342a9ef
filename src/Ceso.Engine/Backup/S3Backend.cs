using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Ceso.Engine.Backup;

/// <summary>
/// A repository in an S3 bucket (AWS or an S3-compatible server: tested against OpenStack Swift's s3api), with the
/// folder layout of <see cref="DirectoryBackend"/> under <see cref="S3BackendOptions.Prefix"/>: <c>config</c>,
/// <c>keys/</c>, <c>data/xx/</c>, <c>index/</c>, <c>snapshots/</c>, <c>locks/</c>. A PUT and a completed multipart
/// upload are atomic in S3; a multipart upload that fails is aborted, so a file is never visible half-written.
/// Write-once is a HEAD before the PUT (many S3-compatible servers, Swift among them, answer a conditional
/// <c>If-None-Match: *</c> PUT with 501): a file already there with the same size is left alone, another size is
/// refused. Two writers racing between the HEAD and the PUT write the same name, i.e. the same content (names are
/// content hashes; lock names are random). Transient failures raise <c>RepositoryUnavailable</c> for
/// <see cref="RetryingBackend"/> to retry; the SDK's own retries are off.
/// </summary>
public sealed partial class S3Backend : IBackupBackend, IDisposable
{
    private readonly S3BackendOptions _options;
    private readonly AmazonS3Client _client;
    private readonly string _prefix;
    private readonly S3ErrorMap _errors;
    private readonly SemaphoreSlim _bucketCheck = new(1, 1);
    private bool _bucketReady;

    /// <summary>A backend over the bucket and prefix of <paramref name="options"/>; nothing is sent until the first call.</summary>
    public S3Backend(S3BackendOptions options)
    {
        options.Validate();
        _options = options;
        _prefix = options.KeyPrefix;
        Location = LocationOf(options);
        var config = new AmazonS3Config
        {
            // RetryingBackend retries (with backoff, a timeout per try and the write-once rule to make a repeated save
            // safe), so the SDK must not retry underneath it: no error retries, no silent retry on a dropped pooled
            // connection, no retry throttling.
            MaxErrorRetry = 0,
            MaxStaleConnectionRetries = 0,
            ThrottleRetries = false,
            // Checksums only where S3 demands them: the SDK's default (WHEN_SUPPORTED) adds CRC32s that many S3-compatible
            // servers ignore or refuse (as trailers they need aws-chunked bodies, 501 on Swift). Every body carries a
            // Content-MD5 instead, which S3 and Swift check (see PutAsync).
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            // AWS_ENDPOINT_URL* variables and ~/.aws/config must not redirect a repository the caller named.
            IgnoreConfiguredEndpointUrls = true,
            ConnectTimeout = options.ConnectTimeout,
            // The SDK's default (100 s) would cut a slow but moving transfer; RetryingBackend's per-try timeout
            // (scaled by size) and the caller's token bound every call instead.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        if (options.Endpoint is { } endpoint)
        {
            config.ServiceURL = $"{endpoint.Scheme}://{endpoint.Authority}{endpoint.AbsolutePath.TrimEnd('/')}";
            // With a ServiceURL the SDK derives the signing region from the host name; an S3-compatible server wants
            // the configured one (Swift's s3api: its "location", us-east-1 by default).
            config.AuthenticationRegion = options.Region;
            config.ForcePathStyle = options.ForcePathStyle ?? true;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
            config.ForcePathStyle = options.ForcePathStyle ?? false;
        }

        // Credentials are always passed: the SDK never falls back to its ambient chain or to instance metadata.
        _client = new AmazonS3Client(options.Credentials, config);
        _errors = new S3ErrorMap(Location, options.Credentials!);
    }

    /// <inheritdoc />
    public string Location { get; }

    /// <summary>The bucket.</summary>
    public string Bucket => _options.Bucket;

    /// <inheritdoc />
    public async Task SaveAsync(FileKind kind, string name, Stream data, CancellationToken ct = default)
    {
        RepositoryLayout.CheckName(name);
        var key = KeyOf(kind, name);
        if (_options.CreateBucket)
        {
            await EnsureBucketAsync(ct).ConfigureAwait(false);
        }

        var seekable = data.CanSeek;
        long? size = seekable ? data.Length - data.Position : null;
        if (await StatKeyAsync(key, ct).ConfigureAwait(false) is { } theirs)
        {
            var ours = size ?? await CountAsync(data, ct).ConfigureAwait(false);
            if (theirs != ours)
            {
                throw BackupErrors.State("RepositoryFileExists",
                    $"The {kind} file '{name}' already exists in '{Location}' with a different size ({theirs} bytes, not {ours}); repository files are written once.");
            }

            return;
        }

        if (!seekable || data.Position != 0 && size <= _options.MultipartThreshold)
        {
            // The SDK needs a length (and Content-MD5 needs the bytes): a stream of unknown length is read into memory.
            // So is the rest of a stream not at its start, which the SDK would send from its start.
            var buffer = new MemoryStream();
            await data.CopyToAsync(buffer, 1 << 20, ct).ConfigureAwait(false);
            buffer.Position = 0;
            data = buffer;
            size = buffer.Length;
        }

        if (size > _options.MultipartThreshold)
        {
            await PutMultipartAsync(key, data, size.Value, ct).ConfigureAwait(false);
        }
        else
        {
            await PutAsync(key, data, size!.Value, ct).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<Stream> OpenAsync(FileKind kind, string name, long offset = 0, long? length = null, CancellationToken ct = default)
    {
        RepositoryLayout.CheckName(name);
        var key = KeyOf(kind, name);
        if (offset < 0 || length < 0)
        {
            throw BackupErrors.Invalid($"A read of {length} bytes at {offset} of '{name}' is not a range.");
        }

        if (length == 0 || offset > 0 && length is null)
        {
            // An empty range cannot be asked for in HTTP, and "bytes=N-" at the very end is 416: settle these by size.
            var size = await StatKeyAsync(key, ct).ConfigureAwait(false) ?? throw BackupErrors.FileMissing(kind, name, Location);
            if (offset > size || offset + (length ?? 0) > size)
            {
                throw TooShort(kind, name, size, offset, length);
            }

            if (length == 0 || offset == size)
            {
                return new MemoryStream([], writable: false);
            }
        }

        var request = new GetObjectRequest { BucketName = _options.Bucket, Key = key };
        if (offset > 0 || length is not null)
        {
            request.ByteRange = length is { } l ? new ByteRange(offset, offset + l - 1) : new ByteRange($"bytes={offset}-");
        }

        GetObjectResponse response;
        try
        {
            response = await _client.GetObjectAsync(request, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (S3ErrorMap.IsRangeNotSatisfiable(ex))
        {
            var size = await StatKeyAsync(key, ct).ConfigureAwait(false) ?? throw BackupErrors.FileMissing(kind, name, Location);
            throw TooShort(kind, name, size, offset, length);
        }
        catch (Exception ex) when (S3ErrorMap.IsNoSuchKey(ex))
        {
            throw BackupErrors.FileMissing(kind, name, Location);
        }
        catch (Exception ex) when (_errors.Maps(ex, ct))
        {
            throw _errors.Map(ex, $"reading '{key}'");
        }

        var body = new S3ReadStream(response, _errors, key);
        if (length is not { } want)
        {
            return body;
        }

        await using (body.ConfigureAwait(false))
        {
            if (response.ContentLength != want)
            {
                // The server gives what it has of a range that runs past the end (206 with fewer bytes).
                throw TooShort(kind, name, TotalOf(response) ?? offset + response.ContentLength, offset, length);
            }

            var buffer = new byte[want];
            await body.ReadExactlyAsync(buffer, ct).ConfigureAwait(false);
            return new MemoryStream(buffer, writable: false);
        }
    }

    /// <inheritdoc />
    public Task<long?> StatAsync(FileKind kind, string name, CancellationToken ct = default)
    {
        RepositoryLayout.CheckName(name);
        return StatKeyAsync(KeyOf(kind, name), ct);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<BackendFile> ListAsync(FileKind kind, [EnumeratorCancellation] CancellationToken ct = default)
    {
        if (kind == FileKind.Config)
        {
            if (await StatKeyAsync(KeyOf(kind, "config"), ct).ConfigureAwait(false) is { } size)
            {
                yield return new BackendFile("config", size);
            }

            yield break;
        }

        var folder = _prefix + RepositoryLayout.FolderOf(kind) + "/";
        var request = new ListObjectsV2Request { BucketName = _options.Bucket, Prefix = folder, MaxKeys = _options.ListPageSize };
        while (true)
        {
            ListObjectsV2Response page;
            try
            {
                page = await _client.ListObjectsV2Async(request, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (_errors.Maps(ex, ct))
            {
                throw _errors.Map(ex, $"listing '{folder}'");
            }

            foreach (var o in page.S3Objects ?? [])
            {
                // data/xx/NAME for packs, FOLDER/NAME for the rest; anything else under the prefix is not ours.
                var rest = o.Key[folder.Length..];
                var slash = rest.IndexOf('/');
                var fileName = kind == FileKind.Pack && slash == 2 ? rest[3..] : rest;
                if (fileName.Length > 0 && fileName.IndexOf('/') < 0 && !fileName.StartsWith('.') && (kind != FileKind.Pack || slash == 2))
                {
                    yield return new BackendFile(fileName, o.Size ?? 0);
                }
            }

            if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    /// <inheritdoc />
    public async Task RemoveAsync(FileKind kind, string name, CancellationToken ct = default)
    {
        RepositoryLayout.CheckName(name);
        var key = KeyOf(kind, name);
        try
        {
            // One DeleteObject per file: S3 answers 204 for a key that is not there, and DeleteObjects would need a
            // Content-MD5 that SDK v4 no longer sends (Swift answers it with 400).
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _options.Bucket, Key = key }, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (S3ErrorMap.IsNoSuchKey(ex))
        {
        }
        catch (Exception ex) when (_errors.Maps(ex, ct))
        {
            throw _errors.Map(ex, $"removing '{key}'");
        }
    }

    /// <summary>
    /// Makes sure the bucket exists: creates it when <see cref="S3BackendOptions.CreateBucket"/> is set (the first save
    /// does this itself), else raises <c>RepositoryBucketMissing</c> when it is not there.
    /// </summary>
    public async Task EnsureBucketAsync(CancellationToken ct = default)
    {
        if (_bucketReady)
        {
            return;
        }

        await _bucketCheck.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_bucketReady)
            {
                return;
            }

            try
            {
                await _client.HeadBucketAsync(new HeadBucketRequest { BucketName = _options.Bucket }, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (S3ErrorMap.IsNoSuchBucket(ex, head: true))
            {
                if (!_options.CreateBucket)
                {
                    throw _errors.BucketMissing(_options.Bucket);
                }

                try
                {
                    // us-east-1 is S3's default location and must not be named as a LocationConstraint.
                    var create = new PutBucketRequest { BucketName = _options.Bucket };
                    if (_options.Region != "us-east-1")
                    {
                        create.BucketRegionName = _options.Region;
                    }

                    await _client.PutBucketAsync(create, ct).ConfigureAwait(false);
                }
                catch (AmazonS3Exception put) when (put.ErrorCode is "BucketAlreadyOwnedByYou")
                {
                }
                catch (Exception put) when (_errors.Maps(put, ct))
                {
                    throw _errors.Map(put, $"creating the bucket '{_options.Bucket}'");
                }
            }
            catch (Exception ex) when (_errors.Maps(ex, ct))
            {
                throw _errors.Map(ex, $"looking for the bucket '{_options.Bucket}'");
            }

            _bucketReady = true;
        }
        finally
        {
            _bucketCheck.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _client.Dispose();
        _bucketCheck.Dispose();
    }

    /// <summary>The object key of a file: the <see cref="DirectoryBackend"/> layout under the prefix.</summary>
    internal string KeyOf(FileKind kind, string name) => kind switch
    {
        FileKind.Config => _prefix + "config",
        FileKind.Pack => $"{_prefix}data/{name[..2]}/{name}",
        _ => $"{_prefix}{RepositoryLayout.FolderOf(kind)}/{name}",
    };

    private async Task<long?> StatKeyAsync(string key, CancellationToken ct)
    {
        try
        {
            var meta = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _options.Bucket, Key = key }, ct).ConfigureAwait(false);
            return meta.ContentLength;
        }
        catch (Exception ex) when (S3ErrorMap.IsNoSuchKey(ex))
        {
            return null;
        }
        catch (Exception ex) when (_errors.Maps(ex, ct))
        {
            throw _errors.Map(ex, $"looking up '{key}'");
        }
    }

    private static long? TotalOf(GetObjectResponse response) =>
        response.ContentRange is { } range && range.LastIndexOf('/') is var at and >= 0 && long.TryParse(range[(at + 1)..], out var total) ? total : null;

    private static CesoException TooShort(FileKind kind, string name, long size, long offset, long? length) =>
        BackupErrors.Corrupt($"{kind} file '{name}'", $"is {size} bytes long, too short for a read of {length} bytes at {offset}");

    /// <summary><c>s3:ENDPOINT/BUCKET/PREFIX</c> (or <c>s3://BUCKET/PREFIX</c> for AWS); <see cref="Uri.Authority"/> has no user info.</summary>
    private static string LocationOf(S3BackendOptions o)
    {
        var where = o.Endpoint is { } e ? $"s3:{e.Scheme}://{e.Authority}/{o.Bucket}" : $"s3://{o.Bucket}";
        return o.KeyPrefix.Length > 0 ? $"{where}/{o.KeyPrefix.TrimEnd('/')}" : where;
    }
}
