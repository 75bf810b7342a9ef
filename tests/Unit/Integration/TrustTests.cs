using Ceso.Engine;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;

namespace Ceso.Tests.Integration;

[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TrustTests(TestBed bed)
{
    [Fact]
    public async Task The_first_connection_pins_the_tls_thumbprint_and_a_different_one_is_refused_until_accepted()
    {
        var home = new CesoHome(Path.Combine(Path.GetTempPath(), "ceso-trust-" + Guid.NewGuid().ToString("N")));
        var factory = new SessionFactory(home);
        var profile = bed.Profile(Transport.Soap) with { Thumbprint = null };

        await using (var first = await factory.ConnectAsync(profile))
        {
            Assert.True(first.ThumbprintNewlyPinned);
            Assert.Equal(bed.Info.ThumbprintSha256, first.Thumbprint);
        }

        var store = new TlsTrustStore(home);
        var endpoint = $"{profile.Server}:{profile.SoapPort}";
        Assert.Equal(bed.Info.ThumbprintSha256, store.Get(endpoint));

        // The host now presents a certificate other than the pinned one (simulated by pinning another thumbprint).
        store.Set(endpoint, "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF");
        var e = await Assert.ThrowsAsync<TlsThumbprintException>(() => factory.ConnectAsync(profile));
        Assert.Equal("TlsThumbprintMismatch", e.ErrorId);
        Assert.Contains(bed.Info.ThumbprintSha256, e.Message);
        Assert.Contains("-AcceptNewThumbprint", e.Message);

        await using (var accepted = await factory.ConnectAsync(profile with { AcceptNewThumbprint = true }))
        {
            Assert.Equal(bed.Info.ThumbprintSha256, store.Get(endpoint));
        }

        await using var again = await factory.ConnectAsync(profile);
        Assert.False(again.ThumbprintNewlyPinned);
        Directory.Delete(home.Path, true);
    }

    [Fact]
    public async Task An_explicit_wrong_thumbprint_is_refused()
    {
        var profile = bed.Profile(Transport.Soap) with { Thumbprint = "AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA:AA" };
        var e = await Assert.ThrowsAsync<TlsThumbprintException>(() => new SessionFactory(bed.Home).ConnectAsync(profile));
        Assert.Equal(CesoErrorKind.Security, e.Kind);
    }

    [Fact]
    public async Task A_known_hosts_mismatch_is_refused_with_a_clear_error()
    {
        var dir = Directory.CreateTempSubdirectory("ceso-kh-").FullName;
        var otherKey = Path.Combine(dir, "other");
        Assert.Equal(0, TestBed.Run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", otherKey]).Code);
        var knownHosts = Path.Combine(dir, "known_hosts");
        var pub = File.ReadAllText(otherKey + ".pub").Split(' ');
        File.WriteAllText(knownHosts, $"[{bed.Info.SshHost}]:{bed.Info.SshPort} {pub[0]} {pub[1]}\n");

        var profile = bed.Profile(Transport.Ssh) with { KnownHostsPath = knownHosts };
        var e = await Assert.ThrowsAsync<SshHostKeyException>(() => new SessionFactory(bed.Home).ConnectAsync(profile));

        Assert.Equal("SshHostKeyMismatch", e.ErrorId);
        Assert.Contains("does not match", e.Message);
        Directory.Delete(dir, true);
    }

    [Fact]
    public async Task An_unknown_ssh_host_key_is_refused_not_trusted_on_first_use()
    {
        var knownHosts = Path.GetTempFileName();
        var profile = bed.Profile(Transport.Ssh) with { KnownHostsPath = knownHosts };

        var e = await Assert.ThrowsAsync<SshHostKeyException>(() => new SessionFactory(bed.Home).ConnectAsync(profile));

        Assert.Equal("SshHostKeyUnknown", e.ErrorId);
        Assert.Equal("", File.ReadAllText(knownHosts));
        File.Delete(knownHosts);
    }
}
