using Ceso.Engine.Hosts;

namespace Ceso.Tests.Engine;

public class EsxcliAndVimCmdParsingTests
{
    // Layout as printed by ESXi 7/8 `esxcli storage filesystem list` (numbers right-aligned, names may hold spaces).
    private const string Filesystems = """
        Mount Point                                        Volume Name     UUID                                 Mounted  Type            Size          Free
        -------------------------------------------------  --------------  -----------------------------------  -------  ------  ------------  ------------
        /vmfs/volumes/5f3b1c2a-8c1e9d40-1a2b-001122334455  datastore 1     5f3b1c2a-8c1e9d40-1a2b-001122334455     true  VMFS-6  499826819072  213090091008
        /vmfs/volumes/6a1b2c3d-00000000-0000-000000000000  BOOTBANK1       6a1b2c3d-00000000-0000-000000000000     true  vfat      4293591040    4086628352
        """;

    [Fact]
    public void Esxcli_table_keeps_names_with_spaces_whole_and_reads_right_aligned_numbers()
    {
        var rows = EsxcliTable.Parse(Filesystems);

        Assert.Equal(2, rows.Count);
        Assert.Equal("datastore 1", rows[0]["Volume Name"]);
        Assert.Equal("VMFS-6", rows[0]["Type"]);
        Assert.Equal("499826819072", rows[0]["Size"]);
        Assert.Equal("213090091008", rows[0]["Free"]);
        Assert.Equal("/vmfs/volumes/5f3b1c2a-8c1e9d40-1a2b-001122334455", rows[0]["Mount Point"]);
    }

    [Fact]
    public void Esxcli_table_without_an_underline_is_refused() =>
        Assert.Throws<FormatException>(() => EsxcliTable.Parse("Error: Unknown command or namespace storage filesystem lst"));

    [Fact]
    public void Getallvms_rows_give_vmids_even_with_spaces_in_names_and_multiline_annotations()
    {
        const string text = """
            Vmid        Name                    File                          Guest OS       Version   Annotation
            1      web 01                 [datastore 1] web 01/web 01.vmx   ubuntu64Guest   vmx-19    first line
            second line of the annotation [not a row] x
            12     db                     [datastore1] db/db.vmx             ubuntu64Guest   vmx-19
            """;

        Assert.Equal(["1", "12"], SshInventory.VmIds(text));
    }

    [Fact]
    public void License_name_is_read_from_vim_cmd_license_show()
    {
        const string text = "[200] Sending request for installed licenses...[200] Complete, result is:\n   serial: 00000-00000\n   vmodl key: eval\n   name: Evaluation Mode\n   total: 0\n";
        Assert.Equal("Evaluation Mode", SshInventory.LicenseName(text));
    }

    [Theory]
    [InlineData("VMFS-6", "VMFS")]
    [InlineData("VMFS", "VMFS")]
    [InlineData("NFS41", "NFS41")]
    public void Datastore_types_of_esxcli_and_the_api_agree(string input, string expected) =>
        Assert.Equal(expected, InventoryMapper.DatastoreType(input));

    [Theory]
    [InlineData("/vmfs/volumes/5f3b", "ds:///vmfs/volumes/5f3b/")]
    [InlineData("ds:///vmfs/volumes/5f3b/", "ds:///vmfs/volumes/5f3b/")]
    public void Datastore_urls_of_esxcli_and_the_api_agree(string input, string expected) =>
        Assert.Equal(expected, InventoryMapper.DatastoreUrl(input));
}
