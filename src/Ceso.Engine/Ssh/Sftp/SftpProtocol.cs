using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Ceso.Engine.Ssh.Sftp;

/// <summary>SFTP version 3 (draft-ietf-secsh-filexfer-02) packet types.</summary>
internal static class SftpPacket
{
    public const byte Init = 1, Version = 2, Open = 3, Close = 4, Read = 5, Write = 6, Lstat = 7, Fstat = 8,
        Opendir = 11, Readdir = 12, Remove = 13, Mkdir = 14, Rmdir = 15, Stat = 17, Rename = 18,
        Status = 101, Handle = 102, Data = 103, Name = 104, Attrs = 105, Extended = 200, ExtendedReply = 201;

    /// <summary>The largest packet accepted from a server (OpenSSH's sftp-server sends at most 256 KiB + header).</summary>
    public const int MaxIncoming = 4 << 20;
}

/// <summary>The status codes of SSH_FXP_STATUS (version 3).</summary>
internal enum SftpStatus : uint
{
    Ok = 0,
    Eof = 1,
    NoSuchFile = 2,
    PermissionDenied = 3,
    Failure = 4,
    BadMessage = 5,
    NoConnection = 6,
    ConnectionLost = 7,
    OpUnsupported = 8,
}

/// <summary>The pflags of SSH_FXP_OPEN.</summary>
[Flags]
internal enum SftpOpenFlags : uint
{
    Read = 0x01,
    Write = 0x02,
    Append = 0x04,
    Create = 0x08,
    Truncate = 0x10,
    Exclusive = 0x20,
}

/// <summary>The OpenSSH extensions this client uses, as the server names them in its VERSION packet.</summary>
internal static class SftpExtension
{
    public const string PosixRename = "posix-rename@openssh.com";
    public const string Fsync = "fsync@openssh.com";
    public const string StatVfs = "statvfs@openssh.com";
    public const string Limits = "limits@openssh.com";
}

/// <summary>A file's attributes as far as the server sent them.</summary>
internal readonly record struct SftpAttributes(long? Size, uint? Permissions, DateTimeOffset? Modified)
{
    /// <summary>True for a directory (S_IFDIR in the permission bits).</summary>
    public bool IsDirectory => (Permissions & 0xF000) == 0x4000;

    /// <summary>True for a regular file (S_IFREG), or when the server sent no type.</summary>
    public bool IsRegularFile => Permissions is null || (Permissions & 0xF000) == 0x8000;
}

/// <summary>One entry of a directory listing.</summary>
internal readonly record struct SftpDirectoryEntry(string Name, SftpAttributes Attributes);

/// <summary>What statvfs@openssh.com answers about the file system holding a path.</summary>
internal readonly record struct SftpFileSystemStats(ulong FragmentSize, ulong Blocks, ulong AvailableBlocks, ulong AvailableFiles)
{
    /// <summary>Bytes an unprivileged writer may still use.</summary>
    public ulong AvailableBytes => FragmentSize * AvailableBlocks;
}

/// <summary>Builds one outgoing packet: length, type, then fields in network byte order.</summary>
internal sealed class SftpWriter
{
    private byte[] _buffer = new byte[256];
    private int _length = 4;

    public SftpWriter(byte type) => Byte(type);

    /// <summary>The packet so far, its length field counting <paramref name="tailLength"/> bytes sent after it.</summary>
    public ReadOnlyMemory<byte> Finish(int tailLength = 0)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer, (uint)(_length - 4 + tailLength));
        return _buffer.AsMemory(0, _length);
    }

    public SftpWriter Byte(byte value)
    {
        Reserve(1)[0] = value;
        return this;
    }

    public SftpWriter UInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(Reserve(4), value);
        return this;
    }

    public SftpWriter UInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(Reserve(8), value);
        return this;
    }

    /// <summary>A string field: filenames are UTF-8 (what OpenSSH sends and expects).</summary>
    public SftpWriter String(string value)
    {
        var n = Encoding.UTF8.GetByteCount(value);
        UInt32((uint)n);
        Encoding.UTF8.GetBytes(value, Reserve(n));
        return this;
    }

    public SftpWriter Bytes(ReadOnlySpan<byte> value)
    {
        UInt32((uint)value.Length);
        value.CopyTo(Reserve(value.Length));
        return this;
    }

    /// <summary>An ATTRS with no fields (the server's defaults: umask and ownership apply).</summary>
    public SftpWriter NoAttributes() => UInt32(0);

    private Span<byte> Reserve(int n)
    {
        if (_length + n > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + n));
        }

        var span = _buffer.AsSpan(_length, n);
        _length += n;
        return span;
    }
}

/// <summary>One packet from the server, in a pooled buffer (returned on dispose): type, request id, then the body.</summary>
internal sealed class SftpResponse : IDisposable
{
    private byte[]? _buffer;
    private readonly int _length;
    private int _position;

    public SftpResponse(byte[] buffer, int length)
    {
        _buffer = buffer;
        _length = length;
        Type = buffer[0];
        _position = 1;
    }

    public byte Type { get; }

    /// <summary>True when every field has been read.</summary>
    public bool AtEnd => _position >= _length;

    public uint UInt32()
    {
        var v = BinaryPrimitives.ReadUInt32BigEndian(Take(4));
        return v;
    }

    public ulong UInt64() => BinaryPrimitives.ReadUInt64BigEndian(Take(8));

    public string String() => Encoding.UTF8.GetString(Bytes().Span);

    /// <summary>A string field's bytes, valid until this response is disposed.</summary>
    public ReadOnlyMemory<byte> Bytes()
    {
        var n = (int)UInt32();
        if (n < 0 || n > _length - _position)
        {
            throw new InvalidDataException($"An SFTP string of {n} bytes runs past the end of its packet.");
        }

        var m = _buffer.AsMemory(_position, n);
        _position += n;
        return m;
    }

    public SftpAttributes Attributes()
    {
        var flags = UInt32();
        long? size = null;
        uint? permissions = null;
        DateTimeOffset? modified = null;
        if ((flags & 0x1) != 0)
        {
            size = (long)UInt64();
        }

        if ((flags & 0x2) != 0)
        {
            UInt32(); // uid
            UInt32(); // gid
        }

        if ((flags & 0x4) != 0)
        {
            permissions = UInt32();
        }

        if ((flags & 0x8) != 0)
        {
            UInt32(); // atime
            modified = DateTimeOffset.FromUnixTimeSeconds(UInt32());
        }

        if ((flags & 0x80000000) != 0)
        {
            for (var n = UInt32(); n > 0; n--)
            {
                Bytes();
                Bytes();
            }
        }

        return new SftpAttributes(size, permissions, modified);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } b)
        {
            ArrayPool<byte>.Shared.Return(b);
        }
    }

    private ReadOnlySpan<byte> Take(int n)
    {
        ObjectDisposedException.ThrowIf(_buffer is null, this);
        if (_position + n > _length)
        {
            throw new InvalidDataException("An SFTP packet ended before its fields did.");
        }

        var span = _buffer.AsSpan(_position, n);
        _position += n;
        return span;
    }
}
