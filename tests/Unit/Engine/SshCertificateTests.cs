using Ceso.Engine;
using Ceso.Engine.Ssh;

namespace Ceso.Tests.Engine;

/// <summary>Operator certificates: issued by the real ssh-keygen, read back, and checked before a login uses them.</summary>
public sealed class SshCertificateTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ceso-cert-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Key(string name)
    {
        var path = Path.Combine(_dir, name);
        SshCertificates.RunKeygen(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path], "make a test key");
        return path;
    }

    [Fact]
    public void An_issued_certificate_reads_back_with_its_key_id_serial_principals_and_validity()
    {
        var ca = Key("ca");
        var key = Key("op");
        var before = DateTimeOffset.UtcNow;
        SshCertificates.RunKeygen(SshCertificates.IssueArguments(ca, false, key + ".pub", "alice: change 4711", ["root", "admin"], TimeSpan.FromHours(8), 4242), "sign");

        var cert = SshCertificates.Read(key + "-cert.pub");

        Assert.Equal("alice: change 4711", cert.KeyId);
        Assert.Equal(4242UL, cert.Serial);
        Assert.Equal(["root", "admin"], cert.Principals);
        Assert.InRange(cert.ValidFrom!.Value, before.AddMinutes(-2), before);
        Assert.InRange(cert.ValidTo!.Value, before.AddHours(8).AddMinutes(-1), before.AddHours(8).AddMinutes(1));
        Assert.StartsWith("SHA256:", cert.SigningCa);
        Assert.Equal(cert.KeyId, SshCertificates.CheckForLogin(cert.Path, "root", DateTimeOffset.UtcNow).KeyId);
    }

    [Fact]
    public void A_login_check_refuses_expired_not_yet_valid_and_other_users_certificates()
    {
        var ca = Key("ca");
        var key = Key("op");
        SshCertificates.RunKeygen(["-q", "-s", ca, "-I", "old", "-n", "root", "-V", "20200101:20200102", "-z", "1", key + ".pub"], "sign");
        var path = key + "-cert.pub";

        Assert.Equal("SshCertificateExpired", Assert.Throws<CesoException>(() => SshCertificates.CheckForLogin(path, "root", DateTimeOffset.UtcNow)).ErrorId);
        Assert.Equal("SshCertificateNotYetValid", Assert.Throws<CesoException>(() => SshCertificates.CheckForLogin(path, "root", new DateTimeOffset(2019, 6, 1, 0, 0, 0, TimeSpan.Zero))).ErrorId);
        Assert.Equal("SshCertificatePrincipal", Assert.Throws<CesoException>(() => SshCertificates.CheckForLogin(path, "admin", new DateTimeOffset(2020, 1, 1, 12, 0, 0, TimeSpan.Zero))).ErrorId);
        Assert.Equal("SshCertificateInvalid", Assert.Throws<CesoException>(() => SshCertificates.Read(key + ".pub")).ErrorId);
    }

    [Fact]
    public void Parsing_handles_certificates_without_end_or_principals()
    {
        var cert = SshCertificates.Parse("x", "        Key ID: \"k\"\n        Serial: 0\n        Valid: forever\n        Principals: (none)\n        Critical Options: (none)\n");
        Assert.Null(cert.ValidTo);
        Assert.True(cert.IsValidAt(DateTimeOffset.UtcNow));
    }
}
