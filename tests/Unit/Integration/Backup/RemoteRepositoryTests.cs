using Ceso.Engine.Backup;
using Ceso.Engine.Configuration;
using Ceso.Engine.Connection;
using Ceso.Engine.Hosts;
using Ceso.Engine.Operations;
using Ceso.Tests.Backup;
using Ceso.Tests.Integration;

namespace Ceso.Tests.Integration.Backup;

/// <summary>A VM backed up into a remote repository and restored from it on a machine whose $CESO_HOME is new.</summary>
[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class RemoteRepositoryTests(TestBed bed, SwiftServer swift) : IClassFixture<SwiftServer>
{
    private const string Password = "remote repository password";

    private static bool Same(byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b);

    private string Folder(string vm) => Path.Combine(bed.Info.Datastores[0].LocalDir, vm);

    [Fact]
    public async Task A_backup_made_to_s3_restores_byte_identical_from_s3_after_the_ceso_home_is_deleted()
    {
        var bucket = SwiftServer.NewBucket("vm");
        var url = $"s3:{swift.Endpoint.GetLeftPart(UriPartial.Authority)}/{bucket}/site1";
        var credentials = new RepositoryCredentials(swift.AccessKey, swift.SecretKey);
        await RoundTripAsync(url, credentials, registered: new RepositoryLocationOptions());
    }

    [Fact]
    public async Task A_backup_made_over_sftp_to_a_datastore_restores_byte_identical_after_the_ceso_home_is_deleted()
    {
        var url = $"sftp://{bed.Info.SshUser}@127.0.0.1:{bed.Info.SshPort}/vmfs/volumes/{bed.Info.Datastores[0].Name}/ceso-sftp-{Guid.NewGuid():N}";
        await RoundTripAsync(url, null, new RepositoryLocationOptions { IdentityFile = bed.Info.SshKey, KnownHostsFile = bed.Info.KnownHosts });
    }

    private async Task RoundTripAsync(string url, RepositoryCredentials? credentials, RepositoryLocationOptions registered)
    {
        var (session, vms, executor) = await bed.OpenOperationsAsync(Transport.Ssh);
        await using var _ = session;
        var name = "remote-" + Guid.NewGuid().ToString("N")[..6];
        var restored = name + "-r";
        var firstHome = new CesoHome(Path.Combine(Path.GetTempPath(), "ceso-home-a-" + Guid.NewGuid().ToString("N")));
        var secondHome = new CesoHome(Path.Combine(Path.GetTempPath(), "ceso-home-b-" + Guid.NewGuid().ToString("N")));
        try
        {
            await executor.ExecuteAsync((await vms.PlanCloneAsync(new CloneVmRequest { Source = "vm01", Name = name })).Plan);
            var flat = Path.Combine(Folder(name), name + "-flat.vmdk");
            await using (var f = new FileStream(flat, FileMode.Open, FileAccess.Write))
            {
                var data = new byte[5 << 20];
                new Random(21).NextBytes(data);
                f.Position = 3 << 20;
                await f.WriteAsync(data);
            }

            var repo = await BackupOperations.CreateRepositoryAsync(firstHome, "offsite", url, Password, null, "test", default, registered, credentials);
            Assert.Equal("offsite", repo.Name);
            Assert.Contains("offsite", File.ReadAllText(CesoConfig.PathOf(firstHome)), StringComparison.Ordinal);
            var (plan, run) = await BackupOperations.PlanBackupAsync(session, firstHome, repo, new BackupVmRequest(name, Tags: ["offsite"]));
            await executor.ExecuteAsync(plan);
            (repo.Repository.Backend as IDisposable)?.Dispose();

            // A new machine: no config.yaml, no catalog; only the URL, the password and the credentials.
            Directory.Delete(firstHome.Path, true);
            var again = await BackupOperations.OpenAsync(secondHome, url, Password, options: registered, credentials: credentials);
            var listed = await BackupOperations.ListAsync(again);
            Assert.Equal([run.Snapshot!.Id], listed.Select(b => b.Id));
            var (restore, _) = await BackupOperations.PlanRestoreAsync(session, secondHome, again, new RestoreVmRequest(run.Snapshot.Id[..8], restored));
            await executor.ExecuteAsync(restore);

            var original = await File.ReadAllBytesAsync(flat);
            var copy = await File.ReadAllBytesAsync(Path.Combine(Folder(restored), restored + "-flat.vmdk"));
            Assert.True(Same(original, copy), "the disk restored from the remote repository differs from the one backed up");
            var check = await BackupOperations.CheckAsync(again, readData: true, subset: null);
            Assert.True(check.Ok, string.Join("; ", check.Problems));
            (again.Repository.Backend as IDisposable)?.Dispose();
        }
        finally
        {
            foreach (var vm in new[] { restored, name })
            {
                if (await vms.RefreshAsync(vm) is not null)
                {
                    await executor.ExecuteAsync((await vms.PlanRemoveAsync(vm, keepFiles: false)).Plan);
                }
            }

            foreach (var home in new[] { firstHome, secondHome })
            {
                if (Directory.Exists(home.Path)) Directory.Delete(home.Path, true);
            }
        }
    }
}
