namespace Ceso.Engine.Ssh.Sftp;

/// <summary>Judging replies: the status a request got, or the reply type it should have got.</summary>
internal sealed partial class SftpConnection
{
    /// <summary>Reads the STATUS of a reply: returns for OK, throws <see cref="SftpStatusException"/> otherwise.</summary>
    public void ExpectOk(SftpResponse r, string operation, string path)
    {
        if (StatusOf(r, operation, path) is { } s)
        {
            throw s;
        }
    }

    /// <summary>Null when the reply is a STATUS OK; the status as an exception for any other STATUS; a protocol error for another type.</summary>
    public SftpStatusException? StatusOf(SftpResponse r, string operation, string path)
    {
        if (r.Type != SftpPacket.Status)
        {
            throw ProtocolError($"{operation} got a reply of type {r.Type}, not STATUS");
        }

        var code = (SftpStatus)r.UInt32();
        var message = r.AtEnd ? "" : r.String();
        return code == SftpStatus.Ok ? null : new SftpStatusException(code, message, operation, path, _target) { Host = _target.Host };
    }

    /// <summary>A reply that should be of <paramref name="type"/>; a STATUS instead is thrown as <see cref="SftpStatusException"/>.</summary>
    public void Expect(SftpResponse r, byte type, string operation, string path)
    {
        if (r.Type == type)
        {
            return;
        }

        if (r.Type == SftpPacket.Status)
        {
            throw (CesoException?)StatusOf(r, operation, path) ?? ProtocolError($"{operation} got STATUS OK instead of a reply of type {type}");
        }

        throw ProtocolError($"{operation} got a reply of type {r.Type}, not {type}");
    }

    /// <summary>A broken promise of the protocol: the connection is closed (nothing after it can be trusted).</summary>
    private SshConnectionException ProtocolError(string detail)
    {
        var e = new SshConnectionException("SftpProtocolError",
            $"The SFTP server {_target} broke the protocol ({detail}); the connection was closed. If the login prints text (a banner from a shell profile), the SFTP stream is not clean.")
        { Host = _target.Host };
        Fail(e);
        return e;
    }
}
