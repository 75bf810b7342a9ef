using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ceso.Tests.Backup;

/// <summary>The head of one HTTP request the <see cref="FaultProxy"/> saw.</summary>
public sealed record ProxiedRequest(string Method, string Target, long ContentLength);

/// <summary>
/// A narrow HTTP/1.1 fault seam in front of a real server, on 127.0.0.1: it forwards the bytes of each connection as
/// they are and reads only the request heads (requests are sequential on a connection; bodies have a Content-Length,
/// as the S3 backend sends them), so that it can, for the requests a test picks, answer a 5xx itself or cut the
/// connection after some bytes of the body. Responses are passed through untouched.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Uri _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<ProxiedRequest> _seen = [];
    private readonly Task _accepting;
    private int _failLeft;
    private int _failStatus = 503;
    private Func<ProxiedRequest, bool> _failWhich = _ => true;
    private int _cutLeft;
    private long _cutAfter;
    private Func<ProxiedRequest, bool> _cutWhich = _ => true;

    /// <summary>Listens on a free 127.0.0.1 port and forwards to <paramref name="upstream"/>.</summary>
    public FaultProxy(Uri upstream)
    {
        _upstream = upstream;
        _listener.Start();
        Endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = AcceptAsync();
    }

    /// <summary>The proxy's address (use it as the S3 endpoint).</summary>
    public Uri Endpoint { get; }

    /// <summary>Every request head seen so far, in order.</summary>
    public IReadOnlyList<ProxiedRequest> Seen
    {
        get
        {
            lock (_seen)
            {
                return [.. _seen];
            }
        }
    }

    /// <summary>The next <paramref name="count"/> requests that match get <paramref name="status"/> (503 SlowDown, 500 InternalError) from the proxy, not the server.</summary>
    public void FailNext(int count, int status = 503, Func<ProxiedRequest, bool>? which = null)
    {
        lock (_seen)
        {
            (_failLeft, _failStatus, _failWhich) = (count, status, which ?? (_ => true));
        }
    }

    /// <summary>The next <paramref name="count"/> requests that match are cut (both sides closed) after <paramref name="bodyBytes"/> bytes of their body reached the server.</summary>
    public void CutNext(int count, long bodyBytes, Func<ProxiedRequest, bool>? which = null)
    {
        lock (_seen)
        {
            (_cutLeft, _cutAfter, _cutWhich) = (count, bodyBytes, which ?? (_ => true));
        }
    }

    /// <summary>True for a request whose body is at least <paramref name="bytes"/> long (a PUT of a file, an upload part).</summary>
    public static Func<ProxiedRequest, bool> BodyOver(long bytes) => r => r.ContentLength >= bytes;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var accepted = client;
        using var server = new TcpClient();
        try
        {
            await server.ConnectAsync(_upstream.Host, _upstream.Port, _stop.Token);
            var fromClient = client.GetStream();
            var toServer = server.GetStream();
            _ = toServer.CopyToAsync(fromClient, _stop.Token); // responses as they come; ends with the connection
            while (await ReadHeadAsync(fromClient) is { } head)
            {
                var request = Parse(head);
                var (fail, cut) = Decide(request);
                if (fail is { } status)
                {
                    await AnswerAsync(fromClient, request, status);
                    return; // Connection: close; whatever body the client sends is not read
                }

                await toServer.WriteAsync(head, _stop.Token);
                if (cut is { } after)
                {
                    await CopyAsync(fromClient, toServer, Math.Min(after, request.ContentLength));
                    return; // both sides closed by the usings: the server sees a short body, the client a reset
                }

                await CopyAsync(fromClient, toServer, request.ContentLength);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private (int? Fail, long? Cut) Decide(ProxiedRequest request)
    {
        lock (_seen)
        {
            _seen.Add(request);
            if (_failLeft > 0 && _failWhich(request))
            {
                _failLeft--;
                return (_failStatus, null);
            }

            if (_cutLeft > 0 && _cutWhich(request))
            {
                _cutLeft--;
                return (null, _cutAfter);
            }

            return (null, null);
        }
    }

    private static async Task AnswerAsync(Stream client, ProxiedRequest request, int status)
    {
        var (code, reason) = status == 503 ? ("SlowDown", "Service Unavailable") : ("InternalError", "Internal Server Error");
        var body = request.Method == "HEAD" ? "" : $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>injected by the test's fault proxy</Message></Error>";
        var bytes = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}");
        await client.WriteAsync(bytes);
        await client.FlushAsync();
    }

    /// <summary>The bytes of one request head, up to and with its blank line; null at the end of the connection.</summary>
    private async Task<byte[]?> ReadHeadAsync(Stream from)
    {
        var head = new List<byte>(1024);
        var one = new byte[1];
        while (head.Count < 64 << 10)
        {
            if (await from.ReadAsync(one, _stop.Token) == 0)
            {
                return null;
            }

            head.Add(one[0]);
            if (head.Count >= 4 && head[^1] == '\n' && head[^2] == '\r' && head[^3] == '\n' && head[^4] == '\r')
            {
                return [.. head];
            }
        }

        throw new IOException("request head too long");
    }

    private static ProxiedRequest Parse(byte[] head)
    {
        var lines = Encoding.ASCII.GetString(head).Split("\r\n");
        var first = lines[0].Split(' ');
        long length = 0;
        foreach (var line in lines.Skip(1))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                length = long.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("Transfer-Encoding:", StringComparison.OrdinalIgnoreCase))
            {
                throw new IOException("the fault proxy handles Content-Length bodies only"); // the backend never sends chunked bodies
            }
        }

        return new ProxiedRequest(first[0], first.Length > 1 ? first[1] : "", length);
    }

    private async Task CopyAsync(Stream from, Stream to, long count)
    {
        var buffer = new byte[1 << 16];
        while (count > 0)
        {
            var n = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), _stop.Token);
            if (n == 0)
            {
                throw new IOException("client closed mid-body");
            }

            await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            count -= n;
        }
    }
}
