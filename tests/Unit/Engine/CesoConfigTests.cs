using Ceso.Engine;
using Ceso.Engine.Configuration;
using Ceso.Engine.Connection;

namespace Ceso.Tests.Engine;

public sealed class CesoConfigTests : IDisposable
{
    private readonly CesoHome _home = new(Directory.CreateTempSubdirectory("ceso-config-").FullName);

    public void Dispose() => Directory.Delete(_home.Path, true);

    [Fact]
    public void A_missing_config_is_an_empty_registry() => Assert.Empty(CesoConfig.Load(_home).Templates);

    [Fact]
    public void Templates_are_read_by_name_case_insensitively_and_scoped_to_their_server()
    {
        File.WriteAllText(CesoConfig.PathOf(_home), """
            templates:
              ubuntu-24.04:
                vm: tpl-ubuntu-2404
                description: Ubuntu 24.04 LTS
              ubuntu-22.04:
                vm: tpl-ubuntu-2204
                server: esx02
            """);

        var config = CesoConfig.Load(_home);

        Assert.Equal("tpl-ubuntu-2404", config.Template("Ubuntu-24.04", "esx01")!.Vm);
        Assert.Null(config.Template("ubuntu-22.04", "esx01"));
        Assert.Equal("tpl-ubuntu-2204", config.Template("ubuntu-22.04", "ESX02")!.Vm);
    }

    [Theory]
    [InlineData("templates:\n  a:\n    vm: [unclosed\n", "line")]
    [InlineData("templates:\n  a:\n    description: no vm\n", "has no 'vm:'")]
    [InlineData("templates:\n  a:\n    vm: x\n    colour: red\n", "line")]
    public void A_malformed_config_is_an_error_naming_the_file_and_what_is_wrong(string yaml, string expected)
    {
        File.WriteAllText(CesoConfig.PathOf(_home), yaml);
        var e = Assert.Throws<CesoException>(() => CesoConfig.Load(_home));
        Assert.Equal("InvalidConfiguration", e.ErrorId);
        Assert.Contains("config.yaml", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Registering_a_repository_keeps_the_rest_of_the_file_and_refuses_a_taken_name()
    {
        var original = "# my lab\ntemplates:\n  ubuntu:\n    vm: tpl-ubuntu # the golden one\n";
        File.WriteAllText(CesoConfig.PathOf(_home), original);

        RepositoryRegistry.Register(_home, "nas", "/mnt/nas/ceso \"x\"", "nightly");
        RepositoryRegistry.Register(_home, "local", "/var/backups/ceso");

        var text = File.ReadAllText(CesoConfig.PathOf(_home));
        Assert.StartsWith(original, text, StringComparison.Ordinal);
        var config = CesoConfig.Load(_home);
        Assert.Equal("/mnt/nas/ceso \"x\"", config.Repositories["NAS"].Location);
        Assert.Equal("nightly", config.Repositories["nas"].Description);
        Assert.Equal("/var/backups/ceso", config.Repositories["local"].Location);
        Assert.Equal("tpl-ubuntu", config.Template("ubuntu", "any")!.Vm);

        var e = Assert.Throws<CesoException>(() => RepositoryRegistry.Register(_home, "Nas", "/elsewhere"));
        Assert.Equal("RepositoryNameExists", e.ErrorId);
        Assert.Equal(text, File.ReadAllText(CesoConfig.PathOf(_home)));
        Assert.Equal("InvalidRepositoryName", Assert.Throws<CesoException>(() => RepositoryRegistry.Register(_home, "a b", "/x")).ErrorId);
    }

    [Fact]
    public void A_repository_without_a_location_is_an_error_naming_it()
    {
        File.WriteAllText(CesoConfig.PathOf(_home), "repositories:\n  nas:\n    description: x\n");
        var e = Assert.Throws<CesoException>(() => CesoConfig.Load(_home));
        Assert.Contains("'nas' has no 'location:'", e.Message);
    }
}
