using System.Globalization;
using System.Text;

namespace Ceso.Engine.Ssh;

/// <summary>Reads a byte stream up to a marker; bytes after it stay buffered for the next read.</summary>
internal sealed class MarkerReader(Stream stream)
{
    private readonly byte[] _chunk = new byte[64 * 1024];
    private byte[] _buffer = new byte[64 * 1024];
    private int _length;

    /// <summary>
    /// Returns the text before <paramref name="marker"/>. With <paramref name="readStatus"/>, the marker is followed by
    /// a decimal exit code and a newline, which are consumed and returned.
    /// </summary>
    public async Task<(string Text, int Status)> ReadUntilAsync(string marker, bool readStatus, CancellationToken ct, Action<string>? onData = null)
    {
        var m = Encoding.ASCII.GetBytes(marker);
        var searchFrom = 0;
        while (true)
        {
            var at = _buffer.AsSpan(searchFrom, _length - searchFrom).IndexOf(m);
            if (at >= 0)
            {
                at += searchFrom;
                var end = at + m.Length;
                var status = 0;
                if (readStatus)
                {
                    var nl = _buffer.AsSpan(end, _length - end).IndexOf((byte)'\n');
                    if (nl < 0)
                    {
                        await FillAsync(ct).ConfigureAwait(false);
                        continue;
                    }

                    status = int.Parse(Encoding.ASCII.GetString(_buffer, end, nl), CultureInfo.InvariantCulture);
                    end += nl + 1;
                }

                var text = Encoding.UTF8.GetString(_buffer, 0, at);
                Buffer.BlockCopy(_buffer, end, _buffer, 0, _length - end);
                _length -= end;
                return (text, status);
            }

            searchFrom = Math.Max(0, _length - m.Length);
            var before = _length;
            await FillAsync(ct).ConfigureAwait(false);
            onData?.Invoke(Encoding.UTF8.GetString(_buffer, before, _length - before));
        }
    }

    /// <summary>What has been read but not yet returned (for error messages once the stream ended).</summary>
    public string Buffered => Encoding.UTF8.GetString(_buffer, 0, _length);

    private async Task FillAsync(CancellationToken ct)
    {
        var n = await stream.ReadAsync(_chunk, ct).ConfigureAwait(false);
        if (n == 0)
        {
            throw new EndOfStreamException("the ssh process closed its output");
        }

        Append(n);
    }

    private void Append(int n)
    {
        if (_length + n > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + n));
        }

        Buffer.BlockCopy(_chunk, 0, _buffer, _length, n);
        _length += n;
    }
}
