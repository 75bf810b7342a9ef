// What crossed the wire to a remote backend, counted the same way for Ceso and restic (BENCH=backends):
// - S3: CountingHttpProxy, a TCP proxy in front of Swift's s3api that parses the client's HTTP/1.1 requests (request
//   line, headers, Content-Length or chunked body) and counts them by method, with the bytes each way. It listens twice:
//   plain HTTP (Ceso) and TLS with a self-signed certificate (restic: minio-go signs http bodies as aws-chunked, which
//   Swift answers 501; over https it sends plain bodies).
// - SFTP: SftpCounter, a small python filter that the ssh command runs through (Ceso: SshTarget.SshExecutable; restic:
//   -o sftp.command): it copies the SFTP stream both ways, counts the client's packets by type and the bytes, and
//   writes a JSON file per ssh process when its input ends.
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Ceso.Bench;

/// <summary>Requests by kind (HTTP method or SFTP packet type) and the bytes client -> server and back.</summary>
internal sealed record WireCounts(IReadOnlyDictionary<string, long> Requests, long BytesSent, long BytesReceived, bool Complete = true)
{
    public static readonly WireCounts None = new(new Dictionary<string, long>(), 0, 0);

    public long TotalRequests => Requests.Values.Sum();

    public string ByKind(int top = 5) => string.Join(", ", Requests.OrderByDescending(r => r.Value).Take(top).Select(r => $"{r.Key} {r.Value}"));
}

internal sealed class CountingHttpProxy : IAsyncDisposable
{
    private readonly int _upstream;
    private readonly TcpListener _plain = new(IPAddress.Loopback, 0);
    private readonly TcpListener _tls = new(IPAddress.Loopback, 0);
    private readonly X509Certificate2 _certificate;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, long> _requests = new(StringComparer.Ordinal);
    private readonly List<Task> _loops = [];
    private long _sent;
    private long _received;

    public CountingHttpProxy(int upstreamPort, string certificatePemPath)
    {
        _upstream = upstreamPort;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        _certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null);
        File.WriteAllText(certificatePemPath, created.ExportCertificatePem());
        _plain.Start();
        _tls.Start();
        _loops.Add(AcceptAsync(_plain, tls: false));
        _loops.Add(AcceptAsync(_tls, tls: true));
    }

    public int PlainPort => ((IPEndPoint)_plain.LocalEndpoint).Port;

    public int TlsPort => ((IPEndPoint)_tls.LocalEndpoint).Port;

    /// <summary>The counts since the last call, and zero again.</summary>
    public WireCounts Take()
    {
        var requests = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var k in _requests.Keys)
        {
            if (_requests.TryRemove(k, out var n))
            {
                requests[k] = n;
            }
        }

        return new WireCounts(requests, Interlocked.Exchange(ref _sent, 0), Interlocked.Exchange(ref _received, 0));
    }

    private async Task AcceptAsync(TcpListener listener, bool tls)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client, tls));
        }
    }

    private async Task ServeAsync(TcpClient client, bool tls)
    {
        using var _ = client;
        using var upstream = new TcpClient { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _upstream, _stop.Token);
            Stream front = client.GetStream();
            if (tls)
            {
                var ssl = new SslStream(front, leaveInnerStreamOpen: false);
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, _stop.Token);
                front = ssl;
            }

            await using (front)
            {
                var back = upstream.GetStream();
                var parser = new HttpRequestCounter(method => _requests.AddOrUpdate(method, 1, (_, n) => n + 1));
                var up = PumpAsync(front, back, n => Interlocked.Add(ref _sent, n), parser.Feed, () => upstream.Client.Shutdown(SocketShutdown.Send));
                var down = PumpAsync(back, front, n => Interlocked.Add(ref _received, n), null, () => client.Client.Shutdown(SocketShutdown.Send));
                await Task.WhenAny(up, down);
                await Task.WhenAny(Task.WhenAll(up, down), Task.Delay(TimeSpan.FromSeconds(30)));
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or AuthenticationException or ObjectDisposedException)
        {
            // a connection the client or Swift closed; what it carried is counted
        }
    }

    private static async Task PumpAsync(Stream from, Stream to, Action<long> count, Action<ReadOnlySpan<byte>>? inspect, Action done)
    {
        var buffer = new byte[1 << 17];
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer)) > 0)
            {
                count(n);
                inspect?.Invoke(buffer.AsSpan(0, n));
                await to.WriteAsync(buffer.AsMemory(0, n));
            }

            done();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _plain.Stop();
        _tls.Stop();
        await Task.WhenAll(_loops);
        _certificate.Dispose();
        _stop.Dispose();
    }

    // HTTP/1.1 requests in a client's byte stream: a head up to CRLF CRLF, then Content-Length bytes or a chunked body.
    private sealed class HttpRequestCounter(Action<string> onRequest)
    {
        private readonly List<byte> _line = [];
        private readonly List<string> _head = [];
        private long _skip;
        private State _state = State.Head;
        private bool _chunked;

        private enum State { Head, Body, ChunkSize, ChunkData, ChunkEnd, Trailer }

        public void Feed(ReadOnlySpan<byte> data)
        {
            while (data.Length > 0)
            {
                if (_state is State.Body or State.ChunkData or State.ChunkEnd && _skip > 0)
                {
                    var n = (int)Math.Min(_skip, data.Length);
                    _skip -= n;
                    data = data[n..];
                    if (_skip == 0)
                    {
                        _state = _state switch { State.ChunkData => State.ChunkEnd, State.ChunkEnd => State.ChunkSize, _ => State.Head };
                        if (_state == State.ChunkEnd)
                        {
                            _skip = 2;
                        }
                    }

                    continue;
                }

                var nl = data.IndexOf((byte)'\n');
                var take = nl < 0 ? data.Length : nl + 1;
                if (_line.Count < 65536)
                {
                    _line.AddRange(data[..take].ToArray());
                }

                data = data[take..];
                if (nl >= 0)
                {
                    Line(Encoding.ASCII.GetString(_line.ToArray()).TrimEnd('\r', '\n'));
                    _line.Clear();
                }
            }
        }

        private void Line(string line)
        {
            switch (_state)
            {
                case State.Head when line.Length > 0:
                    _head.Add(line);
                    break;
                case State.Head when _head.Count > 0:
                    onRequest(_head[0].Split(' ')[0]);
                    string? Header(string name) => _head.Skip(1).Select(h => h.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
                        .Select(p => p[1].Trim()).FirstOrDefault();
                    _chunked = Header("Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true;
                    _skip = !_chunked && long.TryParse(Header("Content-Length"), NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? l : 0;
                    _head.Clear();
                    _state = _chunked ? State.ChunkSize : _skip > 0 ? State.Body : State.Head;
                    break;
                case State.ChunkSize:
                    var size = long.Parse(line.Split(';')[0].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    (_state, _skip) = size == 0 ? (State.Trailer, 0L) : (State.ChunkData, size);
                    break;
                case State.Trailer when line.Length == 0:
                    _state = State.Head;
                    break;
            }
        }
    }
}

/// <summary>The SFTP packet counter that both tools' ssh runs through; see the file's header.</summary>
internal sealed class SftpCounter
{
    private readonly string _dir;

    public SftpCounter(string work)
    {
        _dir = Path.Combine(work, "sftp-counts");
        Directory.CreateDirectory(_dir);
        var script = Path.Combine(work, "sftpcount.py");
        File.WriteAllText(script, Script);
        Ssh = Path.Combine(work, "ssh-counted");
        File.WriteAllText(Ssh, $"#!/bin/sh\nexec /usr/bin/python3 '{script}' '{_dir}' ssh \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Ssh, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>An executable that takes ssh's arguments.</summary>
    public string Ssh { get; }

    /// <summary>The counts of every ssh process that ended since the last call (waits up to 3 s for them to write).</summary>
    public WireCounts Take()
    {
        var requests = new Dictionary<string, long>(StringComparer.Ordinal);
        long sent = 0, received = 0;
        var complete = true;
        var deadline = DateTime.UtcNow.AddSeconds(3);
        while (Directory.EnumerateFiles(_dir, "*.json").Any(f => !Done(f)) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }

        foreach (var f in Directory.EnumerateFiles(_dir, "*.json"))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(f));
            var root = doc.RootElement;
            complete &= root.GetProperty("done").GetBoolean();
            sent += root.GetProperty("sent").GetInt64();
            received += root.GetProperty("received").GetInt64();
            foreach (var p in root.GetProperty("packets").EnumerateObject())
            {
                requests[p.Name] = requests.GetValueOrDefault(p.Name) + p.Value.GetInt64();
            }

            File.Delete(f);
        }

        return new WireCounts(requests, sent, received, complete);
    }

    private static bool Done(string file)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            return doc.RootElement.GetProperty("done").GetBoolean();
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return false;
        }
    }

    // argv: COUNT_DIR ssh ARGS...; the client's packets are uint32 length + type byte + body (the INIT too).
    private const string Script = """
        import json, os, struct, subprocess, sys, threading
        NAMES = {1: "INIT", 3: "OPEN", 4: "CLOSE", 5: "READ", 6: "WRITE", 7: "LSTAT", 8: "FSTAT", 9: "SETSTAT", 10: "FSETSTAT",
                 11: "OPENDIR", 12: "READDIR", 13: "REMOVE", 14: "MKDIR", 15: "RMDIR", 16: "REALPATH", 17: "STAT", 18: "RENAME",
                 19: "READLINK", 20: "SYMLINK", 200: "EXTENDED"}
        out = os.path.join(sys.argv[1], "%d.json" % os.getpid())
        p = subprocess.Popen(sys.argv[2:], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        packets, sent, received = {}, 0, 0
        def write(done):
            with open(out + ".tmp", "w") as f:
                json.dump({"packets": packets, "sent": sent, "received": received, "done": done}, f)
            os.replace(out + ".tmp", out)
        def down():
            global received
            fd = p.stdout.fileno()
            while True:
                d = os.read(fd, 1 << 18)
                if not d:
                    break
                received += len(d)
                v = memoryview(d)
                while v:
                    v = v[os.write(1, v):]
        t = threading.Thread(target=down); t.start()
        write(False)
        skip, head = 0, b""
        try:
            while True:
                d = os.read(0, 1 << 18)
                if not d:
                    break
                sent += len(d)
                i = 0
                while i < len(d):
                    if skip:
                        n = min(skip, len(d) - i); skip -= n; i += n; continue
                    take = d[i:i + 5 - len(head)]; head += take; i += len(take)
                    if len(head) == 5:
                        length, kind = struct.unpack(">IB", head)
                        name = NAMES.get(kind, str(kind)); packets[name] = packets.get(name, 0) + 1
                        skip, head = length - 1, b""
                v = memoryview(d)
                while v:
                    v = v[p.stdin.write(v):]
        except BrokenPipeError:
            pass
        try:
            p.stdin.close()
        except BrokenPipeError:
            pass
        write(False)
        t.join(); rc = p.wait(); write(True)
        sys.exit(rc)
        """;
}
