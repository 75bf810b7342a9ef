namespace Ceso.Tests;

/// <summary>
/// A local stream that fails as a disk would: reads give <c>failAfter</c> bytes of 'x' and then an IOException (a read
/// error); with <c>failWrites</c>, writes fail once <c>failAfter</c> bytes went in (a full disk).
/// </summary>
internal sealed class FailingStream(long failAfter, bool failWrites) : Stream
{
    private long _done;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _done; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (_done >= failAfter)
        {
            throw new IOException("local disk read error");
        }

        var n = (int)Math.Min(count, failAfter - _done);
        Array.Fill(buffer, (byte)'x', offset, n);
        _done += n;
        return n;
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        _done += count;
        if (failWrites && _done >= failAfter)
        {
            throw new IOException("local disk full");
        }
    }
}
