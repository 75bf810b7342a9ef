using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Ceso.Engine.Backup;

/// <summary>
/// Turns what the AWS SDK throws into the repository's errors: 403 and credential errors are <c>RepositoryAccessDenied</c>,
/// quota and size refusals <c>RepositoryFull</c>, 5xx, "slow down", timeouts and broken connections
/// <c>RepositoryUnavailable</c> (which <see cref="RetryingBackend"/> retries). The secret key and session token are
/// scrubbed from every message; an SDK exception whose text held one is not kept as the inner exception.
/// </summary>
internal sealed class S3ErrorMap(string location, AWSCredentials credentials)
{
    private static readonly HashSet<string> Denied = new(StringComparer.Ordinal)
    {
        "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired",
        "AllAccessDisabled", "AccountProblem", "InvalidSecurity", "RequestTimeTooSkewed", "InvalidObjectState",
    };

    private static readonly HashSet<string> Full = new(StringComparer.Ordinal)
    {
        "EntityTooLarge", "QuotaExceeded", "QuotaExceededException", "InsufficientStorage", "StorageQuotaExceeded", "XMinioStorageFull",
    };

    private static readonly HashSet<string> Transient = new(StringComparer.Ordinal)
    {
        "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "Throttling", "ThrottlingException", "RequestThrottled",
        "BadDigest", "IncompleteBody", "OperationAborted", "RequestTimeoutException",
    };

    /// <summary>True for what <see cref="Map"/> translates; a cancellation of the caller's own token is not (it passes as it is).</summary>
    public bool Maps(Exception ex, CancellationToken ct) => ex switch
    {
        CesoException => false,
        OperationCanceledException => !ct.IsCancellationRequested,
        AmazonServiceException or AmazonClientException or HttpRequestException or IOException or SocketException or TimeoutException => true,
        _ => false,
    };

    /// <summary>The repository error for a failed S3 call; <paramref name="doing"/> says what the call was ("writing 'data/ab/ab…'").</summary>
    public CesoException Map(Exception ex, string doing)
    {
        if (ex is AmazonServiceException { StatusCode: not 0 } s && (s.ErrorCode is { Length: > 0 } || (int)s.StatusCode >= 300))
        {
            var code = s.ErrorCode ?? "";
            var status = (int)s.StatusCode;
            var what = Scrub($"{doing}: the server answered {status} {code} ({s.Message?.TrimEnd('.')})", out var leaked);
            var inner = leaked ? null : ex;
            if (Denied.Contains(code) || status is 401 or 403)
            {
                return BackupErrors.AccessDenied(location, what, inner);
            }

            if (Full.Contains(code) || status is 413 or 507)
            {
                return BackupErrors.Full(location, new IOException(what, inner));
            }

            if (code is "NoSuchBucket")
            {
                return BucketMissing(BucketOf(ex) ?? location);
            }

            if (Transient.Contains(code) || status >= 500 || status is 408 or 429)
            {
                return BackupErrors.Unavailable(location, what, inner);
            }

            return new CesoException("RepositoryRequestRefused", CesoErrorKind.HostError,
                $"The backup repository '{location}' refused a request, {what}. Check the bucket's settings and the server; the request was not retried.",
                inner) { Target = location };
        }

        var detail = Scrub($"{doing}: {Describe(ex)}", out var leakedText);
        return BackupErrors.Unavailable(location, detail, leakedText ? null : ex);
    }

    /// <summary><c>RepositoryBucketMissing</c>: the bucket is not there and the options do not allow creating it.</summary>
    public CesoException BucketMissing(string bucket) =>
        new("RepositoryBucketMissing", CesoErrorKind.NotFound,
            $"The S3 bucket '{bucket}' of the backup repository '{location}' does not exist. Create it, or let Ceso create it (S3BackendOptions.CreateBucket), and try again.")
        { Target = bucket };

    /// <summary>404 NoSuchKey (a HEAD's 404 has no body, so any 404 of an object request).</summary>
    public static bool IsNoSuchKey(Exception ex) =>
        ex is AmazonServiceException { StatusCode: HttpStatusCode.NotFound } s && s.ErrorCode is not "NoSuchBucket";

    /// <summary>404 NoSuchBucket; for a HEAD of the bucket any 404.</summary>
    public static bool IsNoSuchBucket(Exception ex, bool head = false) =>
        ex is AmazonServiceException { StatusCode: HttpStatusCode.NotFound } s && (head || s.ErrorCode is "NoSuchBucket");

    /// <summary>416 InvalidRange: a range that starts at or past the end of the object.</summary>
    public static bool IsRangeNotSatisfiable(Exception ex) =>
        ex is AmazonServiceException { StatusCode: HttpStatusCode.RequestedRangeNotSatisfiable } or AmazonServiceException { ErrorCode: "InvalidRange" };

    /// <summary>The innermost useful text of a client-side failure (connection refused or reset, a timeout).</summary>
    private static string Describe(Exception ex)
    {
        var parts = new List<string>();
        for (var e = ex; e is not null && parts.Count < 4; e = e.InnerException)
        {
            if (!parts.Contains(e.Message))
            {
                parts.Add(e is SocketException se ? $"{se.Message} ({se.SocketErrorCode})" : e.Message);
            }
        }

        return string.Join(": ", parts);
    }

    private static string? BucketOf(Exception ex) => (ex as AmazonS3Exception)?.Data["BucketName"] as string;

    private string Scrub(string text, out bool leaked)
    {
        leaked = false;
        ImmutableCredentials? keys = null;
        try
        {
            keys = credentials.GetCredentials();
        }
        catch (Exception e) when (e is AmazonClientException or AmazonServiceException or IOException or InvalidOperationException)
        {
            // credentials that cannot be had right now were not in a request either
        }

        foreach (var secret in new[] { keys?.SecretKey, keys?.Token })
        {
            if (secret is { Length: >= 4 } && text.Contains(secret, StringComparison.Ordinal))
            {
                text = text.Replace(secret, "***", StringComparison.Ordinal);
                leaked = true;
            }
        }

        return text;
    }
}

/// <summary>
/// The body of a GET: read errors (a connection dropped mid-body) become <c>RepositoryUnavailable</c>, so that
/// <see cref="RetryingBackend"/> retries a buffered read, and a body that ends before its Content-Length is one too.
/// Disposing it disposes the response.
/// </summary>
internal sealed class S3ReadStream(GetObjectResponse response, S3ErrorMap errors, string key) : Hosts.ReadOnlyTransferStream
{
    private readonly Stream _body = response.ResponseStream;
    private long _read;

    public override long Length => response.ContentLength;

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n;
        try
        {
            n = await _body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (errors.Maps(ex, cancellationToken))
        {
            throw errors.Map(ex, $"reading '{key}' after {_read} of {response.ContentLength} bytes");
        }

        _read += n;
        if (n == 0 && buffer.Length > 0 && _read < response.ContentLength)
        {
            throw errors.Map(new IOException($"the body ended after {_read} of {response.ContentLength} bytes"), $"reading '{key}'");
        }

        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            response.Dispose();
        }

        base.Dispose(disposing);
    }
}
