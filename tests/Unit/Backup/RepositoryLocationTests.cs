using Ceso.Engine;
using Ceso.Engine.Backup;

namespace Ceso.Tests.Backup;

public sealed class RepositoryLocationTests
{
    [Fact]
    public void A_path_is_a_directory_resolved_against_the_base()
    {
        var l = RepositoryLocation.Parse("backups/nas", basePath: "/srv");
        Assert.Equal(RepositoryKind.Directory, l.Kind);
        Assert.Equal("/srv/backups/nas", l.Path);
        Assert.False(l.IsRemote);
        Assert.Equal("/srv/backups/nas", l.ToString());
    }

    [Theory]
    [InlineData("sftp://root@esxi01/vmfs/volumes/backup/ceso", "root", "esxi01", 22, "/vmfs/volumes/backup/ceso", "sftp://root@esxi01/vmfs/volumes/backup/ceso")]
    [InlineData("sftp://backup@127.0.0.1:2222/srv/repo/", "backup", "127.0.0.1", 2222, "/srv/repo", "sftp://backup@127.0.0.1:2222/srv/repo")]
    [InlineData("sftp://root@[::1]:2200/x%20y", "root", "::1", 2200, "/x y", "sftp://root@[::1]:2200/x y")]
    public void An_sftp_url_gives_user_host_port_and_folder(string text, string user, string host, int port, string path, string shown)
    {
        var l = RepositoryLocation.Parse(text, new RepositoryLocationOptions { IdentityFile = "/k", KnownHostsFile = "/kh" });
        Assert.Equal((RepositoryKind.Sftp, user, host, port, path), (l.Kind, l.User, l.Host, l.Port, l.RemotePath));
        Assert.Equal(("/k", "/kh"), (l.IdentityFile, l.KnownHostsFile));
        Assert.True(l.IsRemote);
        Assert.Equal(shown, l.ToString());
    }

    [Fact]
    public void An_sftp_url_without_a_user_takes_the_local_user_as_ssh_does()
    {
        Assert.Equal(Environment.UserName, RepositoryLocation.Parse("sftp://nas/backups").User);
    }

    [Fact]
    public void S3_urls_in_both_forms_give_bucket_prefix_endpoint_and_addressing()
    {
        var aws = RepositoryLocation.Parse("s3://ceso-backups/site1/nightly", new RepositoryLocationOptions { Region = "eu-west-1" });
        Assert.Equal((RepositoryKind.S3, "ceso-backups", "site1/nightly", null, "eu-west-1", false), (aws.Kind, aws.Bucket, aws.Prefix, aws.Endpoint, aws.Region, aws.PathStyle));
        Assert.Equal("s3://ceso-backups/site1/nightly", aws.ToString());

        var withEndpoint = RepositoryLocation.Parse("s3://b01", new RepositoryLocationOptions { Endpoint = new Uri("http://127.0.0.1:8080") });
        Assert.Equal(("b01", "", "http://127.0.0.1:8080/", true), (withEndpoint.Bucket, withEndpoint.Prefix, withEndpoint.Endpoint!.ToString(), withEndpoint.PathStyle));

        var restic = RepositoryLocation.Parse("s3:http://127.0.0.1:8080/b01/p/q/");
        Assert.Equal(("b01", "p/q", "http://127.0.0.1:8080/", true, "us-east-1"), (restic.Bucket, restic.Prefix, restic.Endpoint!.ToString(), restic.PathStyle, restic.Region));
        Assert.Equal("s3:http://127.0.0.1:8080/b01/p/q", restic.ToString());

        var virtualHosted = RepositoryLocation.Parse("s3:https://minio.lan/b01", new RepositoryLocationOptions { PathStyle = false });
        Assert.False(virtualHosted.PathStyle);
    }

    [Theory]
    [InlineData("ftp://host/x", "'ftp' is not a repository scheme")]
    [InlineData("sftp://root:secret@host/x", "never a password in a URL")]
    [InlineData("sftp://root@host/", "names no folder")]
    [InlineData("sftp://root@host/a/../..", "climbs out")]
    [InlineData("s3://Bad_Bucket/x", "is not an S3 bucket name")]
    [InlineData("s3://ab", "is not an S3 bucket name")]
    [InlineData("s3://bucket/a//b", "has an empty")]
    [InlineData("s3:ftp://host/bucket", "neither s3://bucket/prefix")]
    public void A_bad_location_says_what_is_wrong_and_the_forms_that_work(string text, string why)
    {
        var e = Assert.Throws<CesoException>(() => RepositoryLocation.Parse(text));
        Assert.Equal("RepositoryLocationInvalid", e.ErrorId);
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
        Assert.Contains("sftp://user@host/folder", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", e.Message, StringComparison.Ordinal);
    }
}
