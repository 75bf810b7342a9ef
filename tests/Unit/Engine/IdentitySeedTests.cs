using Ceso.Engine;
using Ceso.Engine.Connection;
using Ceso.Engine.Formats;
using Ceso.Engine.Planning;

namespace Ceso.Tests.Engine;

public sealed class IdentitySeedTests : IDisposable
{
    private readonly CesoHome _home = new(Directory.CreateTempSubdirectory("ceso-seed-").FullName);

    public void Dispose() => Directory.Delete(_home.Path, true);

    [Fact]
    public void The_same_facts_give_the_same_identity_and_other_facts_another()
    {
        var a = IdentitySeed.For(_home, "CloneVm", "esx01", "10", "web02");
        var b = IdentitySeed.For(_home, "CloneVm", "esx01", "10", "web02");
        var otherHost = IdentitySeed.For(_home, "CloneVm", "esx02", "10", "web02");

        Assert.Equal(VmxIdentity.NewBiosUuid(a), VmxIdentity.NewBiosUuid(b));
        Assert.Equal(VmxIdentity.NewMac(a, "mac-0"), VmxIdentity.NewMac(b, "mac-0"));
        Assert.NotEqual(VmxIdentity.NewBiosUuid(a), VmxIdentity.NewBiosUuid(otherHost));
        Assert.NotEqual(VmxIdentity.NewMac(a, "mac-0"), VmxIdentity.NewMac(a, "mac-1"));
        // Facts are fields, not a concatenation: ("ab","c") is not ("a","bc").
        Assert.NotEqual(IdentitySeed.For(_home, "ab", "c").Hex("x", 8), IdentitySeed.For(_home, "a", "bc").Hex("x", 8));
    }

    [Fact]
    public void Another_installation_key_gives_other_identities_for_the_same_facts()
    {
        var other = new CesoHome(Directory.CreateTempSubdirectory("ceso-seed-other-").FullName);
        try
        {
            Assert.NotEqual(IdentitySeed.For(_home, "x").Hex("bios-uuid", 16), IdentitySeed.For(other, "x").Hex("bios-uuid", 16));
        }
        finally
        {
            Directory.Delete(other.Path, true);
        }
    }

    [Fact]
    public void The_installation_key_is_32_bytes_readable_by_its_owner_only()
    {
        _ = IdentitySeed.For(_home, "x");
        var key = Path.Combine(_home.Path, "identity.key");
        Assert.Equal(32, new FileInfo(key).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        }
    }

    [Fact]
    public void A_damaged_key_is_an_error_that_says_what_to_do()
    {
        File.WriteAllText(_home.File("identity.key"), "short");
        var e = Assert.Throws<CesoException>(() => IdentitySeed.For(_home, "x"));
        Assert.Equal("IdentityKeyDamaged", e.ErrorId);
        Assert.Contains("Delete it", e.Message);
    }

    [Fact]
    public void Macs_stay_in_vmwares_static_range_and_uuids_read_as_version_4()
    {
        for (var i = 0; i < 200; i++)
        {
            var seed = IdentitySeed.For(_home, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Matches("^00:50:56:[0-3][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$", VmxIdentity.NewMac(seed, "mac-0"));
            Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", VmxIdentity.ApiUuid(VmxIdentity.NewBiosUuid(seed)));
        }
    }
}
