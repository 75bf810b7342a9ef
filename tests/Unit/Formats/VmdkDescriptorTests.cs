using Ceso.Engine.Formats;
using Ceso.Engine.Formats.Vmdk;

namespace Ceso.Tests.Formats;

public sealed class VmdkDescriptorTests
{
    private const string Base = """
        # Disk DescriptorFile
        version=1
        encoding="UTF-8"
        CID=fffffffe
        parentCID=ffffffff
        createType="vmfs"

        # Extent description
        RW 8388608 VMFS "web 01-flat.vmdk"

        # The Disk Data Base
        #DDB

        ddb.adapterType = "lsilogic"
        ddb.thinProvisioned = "1"
        """;

    [Fact]
    public void A_flat_disk_has_one_extent_resolved_beside_its_descriptor()
    {
        var d = VmdkDescriptor.Parse(Base);
        Assert.Equal("vmfs", d.CreateType);
        Assert.True(d.IsSingleFlat);
        Assert.True(d.Thin);
        Assert.Equal(4L << 30, d.CapacityBytes);
        Assert.Equal(new DatastorePath("datastore1", "web 01/web 01-flat.vmdk"), d.FlatFile(DatastorePath.Parse("[datastore1] web 01/web 01.vmdk")));
    }

    [Fact]
    public void A_delta_names_its_parent_and_is_not_a_single_flat_disk()
    {
        var d = VmdkDescriptor.Parse("""
            createType="vmfsSparse"
            parentFileNameHint="web01.vmdk"
            RW 8388608 VMFSSPARSE "web01-000001-delta.vmdk"
            """.Replace("\r", "", StringComparison.Ordinal));
        Assert.Equal("web01.vmdk", d.ParentFileName);
        Assert.False(d.IsSingleFlat);
        Assert.False(d.Thin);
    }

    [Theory]
    [InlineData("")]
    [InlineData("createType=\"vmfs\"\n")]
    [InlineData("RW 10 VMFS \"x-flat.vmdk\"\n")]
    public void Text_without_a_create_type_or_an_extent_is_not_a_descriptor(string text) =>
        Assert.Throws<FormatException>(() => VmdkDescriptor.Parse(text));
}
