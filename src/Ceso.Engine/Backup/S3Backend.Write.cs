using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3.Model;

namespace Ceso.Engine.Backup;

/// <summary>The writing half of <see cref="S3Backend"/>: one PUT, or a multipart upload that is aborted on any failure.</summary>
public sealed partial class S3Backend
{
    private async Task PutAsync(string key, Stream data, long size, CancellationToken ct)
    {
        var request = new PutObjectRequest
        {
            BucketName = _options.Bucket,
            Key = key,
            InputStream = data,
            AutoCloseStream = false,
            // aws-chunked bodies (the SDK's default for streams) are 501 on Swift's s3api and others: a plain body.
            UseChunkEncoding = false,
            MD5Digest = await Md5Async(data, size, ct).ConfigureAwait(false),
        };
        request.Headers.ContentLength = size;
        try
        {
            await _client.PutObjectAsync(request, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (_errors.Maps(ex, ct))
        {
            throw _errors.Map(ex, $"writing '{key}'");
        }
    }

    /// <summary>Parts of <see cref="S3BackendOptions.PartSize"/> one after another; any failure aborts the upload.</summary>
    private async Task PutMultipartAsync(string key, Stream data, long size, CancellationToken ct)
    {
        string uploadId;
        try
        {
            uploadId = (await _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _options.Bucket, Key = key }, ct)
                .ConfigureAwait(false)).UploadId;
        }
        catch (Exception ex) when (_errors.Maps(ex, ct))
        {
            throw _errors.Map(ex, $"starting the upload of '{key}'");
        }

        try
        {
            var parts = new List<PartETag>();
            var buffer = new byte[(int)Math.Min(_options.PartSize, size)];
            for (var (number, done) = (1, 0L); done < size; number++)
            {
                var n = (int)Math.Min(buffer.Length, size - done);
                await data.ReadExactlyAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                using var part = new MemoryStream(buffer, 0, n, writable: false);
                var response = await _client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = _options.Bucket,
                    Key = key,
                    UploadId = uploadId,
                    PartNumber = number,
                    PartSize = n,
                    InputStream = part,
                    UseChunkEncoding = false,
                    MD5Digest = Convert.ToBase64String(MD5.HashData(buffer.AsSpan(0, n))),
                }, ct).ConfigureAwait(false);
                parts.Add(new PartETag(number, response.ETag));
                done += n;
            }

            await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _options.Bucket,
                Key = key,
                UploadId = uploadId,
                PartETags = parts,
            }, ct).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await AbortAsync(key, uploadId).ConfigureAwait(false);
            if (_errors.Maps(ex, ct))
            {
                throw _errors.Map(ex, $"uploading '{key}' in parts");
            }

            throw;
        }
    }

    /// <summary>
    /// Best effort, with its own short deadline (the caller's token may be what failed): an upload left behind is
    /// invisible as an object either way, but holds storage until a bucket lifecycle rule removes it.
    /// </summary>
    private async Task AbortAsync(string key, string uploadId)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _options.Bucket, Key = key, UploadId = uploadId }, deadline.Token)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or OperationCanceledException)
        {
        }
    }

    /// <summary>Content-MD5 of the rest of a seekable stream, which is left where it was: the server refuses a body that differs.</summary>
    private static async Task<string> Md5Async(Stream data, long size, CancellationToken ct)
    {
        var start = data.Position;
        if (data is MemoryStream ms && ms.TryGetBuffer(out var whole))
        {
            return Convert.ToBase64String(MD5.HashData(whole.AsSpan((int)start, (int)size)));
        }

        var hash = await MD5.HashDataAsync(data, ct).ConfigureAwait(false);
        data.Position = start;
        return Convert.ToBase64String(hash);
    }

    private static async Task<long> CountAsync(Stream data, CancellationToken ct)
    {
        var buffer = new byte[1 << 16];
        long total = 0;
        int n;
        while ((n = await data.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            total += n;
        }

        return total;
    }
}
