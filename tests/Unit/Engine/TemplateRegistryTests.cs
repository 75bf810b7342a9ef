using Ceso.Engine;
using Ceso.Engine.Configuration;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;

namespace Ceso.Tests.Engine;

public sealed class TemplateRegistryTests : IDisposable
{
    private readonly CesoHome _home = new(Directory.CreateTempSubdirectory("ceso-templates-").FullName);

    public void Dispose() => Directory.Delete(_home.Path, true);

    private string Text => File.ReadAllText(CesoConfig.PathOf(_home));

    [Fact]
    public void Registering_adds_one_entry_with_its_defaults_and_keeps_every_other_line_of_the_file()
    {
        var original = "# my lab\ntemplates:\n  ubuntu:\n    vm: tpl-ubuntu # the golden one\n\n# backups\nrepositories:\n  nas:\n    location: /mnt/nas\n";
        File.WriteAllText(CesoConfig.PathOf(_home), original);

        TemplateRegistry.Register(_home, "debian-12", new TemplateEntry { Vm = "tpl debian", Description = "Debian \"bookworm\"", NumCpu = 2, MemoryMB = 2048, DiskGB = 20, Network = "Lab Network" });

        Assert.Equal("# my lab\ntemplates:\n  ubuntu:\n    vm: tpl-ubuntu # the golden one\n  debian-12:\n    vm: \"tpl debian\"\n    description: \"Debian \\\"bookworm\\\"\"\n"
            + "    num-cpu: 2\n    memory-mb: 2048\n    disk-gb: 20\n    network: \"Lab Network\"\n\n# backups\nrepositories:\n  nas:\n    location: /mnt/nas\n", Text);
        var entry = CesoConfig.Load(_home).Templates["DEBIAN-12"];
        Assert.Equal(("tpl debian", 2, 2048L, 20, "Lab Network"), (entry.Vm, entry.NumCpu!.Value, entry.MemoryMB!.Value, entry.DiskGB!.Value, entry.Network));
    }

    [Fact]
    public void Registering_into_a_file_without_templates_appends_the_section_and_a_taken_name_is_refused()
    {
        File.WriteAllText(CesoConfig.PathOf(_home), "repositories:\n  nas:\n    location: /mnt/nas\n");
        TemplateRegistry.Register(_home, "ubuntu", new TemplateEntry { Vm = "tpl-ubuntu" });
        Assert.Equal("repositories:\n  nas:\n    location: /mnt/nas\ntemplates:\n  ubuntu:\n    vm: \"tpl-ubuntu\"\n", Text);

        var e = Assert.Throws<CesoException>(() => TemplateRegistry.Register(_home, "Ubuntu", new TemplateEntry { Vm = "other" }));
        Assert.Equal("TemplateNameExists", e.ErrorId);
        Assert.Equal("InvalidTemplateName", Assert.Throws<CesoException>(() => TemplateRegistry.Register(_home, "no spaces", new TemplateEntry { Vm = "x" })).ErrorId);
    }

    [Fact]
    public void Recording_a_result_replaces_the_last_result_lines_in_place_and_adds_them_when_missing()
    {
        File.WriteAllText(CesoConfig.PathOf(_home), "templates:\n  a:\n    vm: tpl-a\n    # keep me\n  b:\n    vm: tpl-b\n");
        var t1 = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        TemplateRegistry.RecordResult(_home, "a", "NotReady: CdRom", t1);
        Assert.Equal("templates:\n  a:\n    vm: tpl-a\n    # keep me\n    last-result: \"NotReady: CdRom\"\n    last-checked: \"2026-12-01T10:00:00Z\"\n  b:\n    vm: tpl-b\n", Text);

        TemplateRegistry.RecordResult(_home, "A", "Ready", t1.AddHours(1));
        Assert.Equal("templates:\n  a:\n    vm: tpl-a\n    # keep me\n    last-result: \"Ready\"\n    last-checked: \"2026-12-01T11:00:00Z\"\n  b:\n    vm: tpl-b\n", Text);
        Assert.Equal(t1.AddHours(1), TemplateRegistry.List(_home).Single(t => t.Name == "a").LastChecked);
    }

    [Fact]
    public void Recording_in_a_flow_style_entry_rewrites_only_that_entry_in_block_style()
    {
        File.WriteAllText(CesoConfig.PathOf(_home), "templates:\n  a: { vm: tpl-a, description: x }\n  b:\n    vm: tpl-b\n");
        TemplateRegistry.RecordResult(_home, "a", "Ready", new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
        Assert.Equal("templates:\n  a:\n    vm: \"tpl-a\"\n    description: \"x\"\n    last-result: \"Ready\"\n    last-checked: \"2026-12-01T10:00:00Z\"\n  b:\n    vm: tpl-b\n", Text);
    }

    [Fact]
    public void Unregistering_removes_only_that_entrys_lines_and_an_unknown_name_is_an_error()
    {
        File.WriteAllText(CesoConfig.PathOf(_home), "# lab\ntemplates:\n  a:\n    vm: tpl-a\n    num-cpu: 4\n\n  # the next one is old\n  b:\n    vm: tpl-b\nrepositories:\n  nas:\n    location: /x\n");

        var removed = TemplateRegistry.Unregister(_home, "a");

        Assert.Equal(4, removed.NumCpu);
        Assert.Equal("# lab\ntemplates:\n\n  # the next one is old\n  b:\n    vm: tpl-b\nrepositories:\n  nas:\n    location: /x\n", Text);
        Assert.Equal("TemplateNotRegistered", Assert.Throws<CesoException>(() => TemplateRegistry.Unregister(_home, "a")).ErrorId);
        TemplateRegistry.Unregister(_home, "b");
        Assert.Empty(CesoConfig.Load(_home).Templates);
        Assert.Equal("/x", CesoConfig.Load(_home).Repositories["nas"].Location);
    }

    [Theory]
    [InlineData("12389", "12.3.5")]
    [InlineData("11333", "11.2.5")]
    [InlineData("0", null)]
    [InlineData(null, null)]
    public void The_hosts_tools_version_number_reads_as_major_minor_patch(string? number, string? expected) =>
        Assert.Equal(expected, InventoryMapper.ToolsVersion(number));
}
