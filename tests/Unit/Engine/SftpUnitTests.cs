using Ceso.Engine.Backup;
using Ceso.Engine.Ssh;
using Ceso.Engine.Ssh.Sftp;

namespace Ceso.Tests.Engine;

public sealed class SftpUnitTests
{
    private static readonly SshTarget Host = new()
    {
        Host = "esx01.lab",
        Port = 2222,
        User = "backup",
        IdentityFile = "/keys/id",
        KnownHostsFile = "/ceso/known_hosts",
        ConfigFile = "none",
    };

    [Fact]
    public void Sftp_runs_over_the_same_ssh_options_as_a_host_connection_with_a_subsystem_instead_of_a_command()
    {
        var shell = Host.Arguments("/bin/sh");
        var sftp = Host.SubsystemArguments("sftp");

        Assert.Equal([.. shell.Take(shell.Count - 3), "-s", "--", "esx01.lab", "sftp"], sftp);
        Assert.Equal(["--", "esx01.lab", "/bin/sh"], shell.TakeLast(3));
        Assert.Contains("StrictHostKeyChecking=yes", sftp);
        Assert.Contains("UserKnownHostsFile=/ceso/known_hosts", sftp);
    }

    [Fact]
    public void The_location_names_user_host_port_and_path_and_no_secret()
    {
        Assert.Equal("sftp://backup@esx01.lab:2222/vmfs/volumes/ds1/repo", new SftpBackend(Host, "/vmfs/volumes/ds1/repo/").Location);
        Assert.Equal("sftp://backup@esx01.lab:2222/~/repo", new SftpBackend(Host, "repo").Location);
        Assert.Equal("sftp://backup@[fd00::1]:2222/r", new SftpBackend(Host with { Host = "fd00::1" }, "/r").Location);
    }

    [Fact]
    public void The_folder_layout_is_the_directory_backend_s()
    {
        var b = new SftpBackend(Host, "/r");

        Assert.Equal("/r/config", b.PathOf(FileKind.Config, "config"));
        Assert.Equal("/r/data/ab/ab01", b.PathOf(FileKind.Pack, "ab01"));
        Assert.Equal("/r/keys/k1", b.PathOf(FileKind.Key, "k1"));
        Assert.Equal("/r/index/i1", b.PathOf(FileKind.Index, "i1"));
        Assert.Equal("/r/snapshots/s1", b.PathOf(FileKind.Snapshot, "s1"));
        Assert.Equal("/r/locks/l1", b.PathOf(FileKind.Lock, "l1"));
        Assert.Equal("/data/ab/ab01", new SftpBackend(Host, "/").PathOf(FileKind.Pack, "ab01"));
    }

    [Fact]
    public void A_status_names_the_request_the_path_and_the_code()
    {
        var e = new SftpStatusException(SftpStatus.Failure, "Failure", "rename", "/r/index/.tmp-1", Host);

        Assert.Equal("SftpRequestFailed", e.ErrorId);
        Assert.Contains("rename of '/r/index/.tmp-1'", e.Message);
        Assert.Contains("Failure (SSH_FX_FAILURE)", e.Message);
    }

    [Fact]
    public void Transient_connection_failures_become_RepositoryUnavailable_and_denials_RepositoryAccessDenied()
    {
        var b = new SftpBackend(Host, "/r");

        Assert.Equal("RepositoryUnavailable", ((Ceso.Engine.CesoException)b.Translate(new Ceso.Engine.SshConnectionException("SshConnectionLost", "x"))).ErrorId);
        Assert.Equal("RepositoryUnavailable", ((Ceso.Engine.CesoException)b.Translate(new Ceso.Engine.SshConnectionException("SshConnectTimeout", "x"))).ErrorId);
        Assert.Equal("RepositoryAccessDenied", ((Ceso.Engine.CesoException)b.Translate(new SftpStatusException(SftpStatus.PermissionDenied, "", "open", "/r", Host))).ErrorId);
        Assert.Equal("SshAuthenticationFailed", ((Ceso.Engine.CesoException)b.Translate(new Ceso.Engine.SshConnectionException("SshAuthenticationFailed", "x"))).ErrorId);
        Assert.True(BackupErrors.IsTransient(b.Translate(new Ceso.Engine.SshConnectionException("SshConnectionFailed", "x"))));
    }
}
