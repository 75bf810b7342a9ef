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
}
