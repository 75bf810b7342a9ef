using System.Text;
using Ceso.Engine.Connection;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Model;
using Ceso.Engine.Operations;

namespace Ceso.Tests.Integration;

/// <summary>A free-licensed host (restricted=on): the session learns it once and then writes over SSH.</summary>
[Collection(TestBedCollection.Name)]
[Trait("Category", "Integration")]
public sealed class FreeLicenseTests(TestBed bed)
{
    private static bool ApiWrite(CallRecord c) => c.Write && !c.Internal && c.Channel is "soap" or "http" && c.Name is not ("Login" or "Logout");

    [Fact]
    public async Task After_one_refusal_in_a_session_the_next_plan_goes_straight_to_ssh()
    {
        var (session, vms, executor) = await bed.OpenOperationsAsync(Transport.Auto);
        await using var _ = session;
        bed.Fault("restricted=on");
        try
        {
            var first = bed.Calls().Count;
            await executor.ExecuteAsync((await vms.PlanPowerAsync("vm04", PowerAction.Start)).Plan);
            var refused = bed.CallsSince(first).Where(ApiWrite).ToList();
            Assert.Equal(["PowerOnVM_Task"], refused.Select(c => c.Name));
            Assert.Equal("RestrictedVersion", refused[0].Fault);
            Assert.True(session.Host.FreeLicense.Detected);

            var mark = bed.Calls().Count;
            var (plan, _) = await vms.PlanPowerAsync("vm04", PowerAction.Kill);
            Assert.Contains("[if the host refuses it (free license): vim-cmd vmsvc/power.off", executor.Show(plan.Steps[0])); // the preview is the same
            await executor.ExecuteAsync(plan);

            var calls = bed.CallsSince(mark);
            Assert.DoesNotContain(calls, ApiWrite);
            Assert.Single(calls, c => c.Channel == "ssh" && c.Kind == "exec" && c.Name.StartsWith("vim-cmd vmsvc/power.off", StringComparison.Ordinal));
            Assert.Equal(CesoPowerState.PoweredOff, (await vms.RefreshAsync("vm04"))!.PowerState);
        }
        finally
        {
            bed.ClearFaults();
            if ((await vms.RefreshAsync("vm04"))?.PowerState == CesoPowerState.PoweredOn)
            {
                await executor.ExecuteAsync((await vms.PlanPowerAsync("vm04", PowerAction.Kill)).Plan);
            }
        }
    }

    [Fact]
    public async Task File_writes_go_over_ssh_on_a_free_license_and_reads_stay_on_the_api()
    {
        await using var session = await bed.ConnectAsync(Transport.Auto);
        var folder = "free-files-" + Guid.NewGuid().ToString("N")[..8];
        var local = Path.Combine(bed.Info.Datastores[0].LocalDir, folder);
        Directory.CreateDirectory(local);
        bed.Fault("restricted=on");
        try
        {
            var a = new DatastorePath("datastore1", folder + "/a.bin");
            var b = new DatastorePath("datastore1", folder + "/b.bin");
            var bytes = new byte[300_000];
            new Random(7).NextBytes(bytes);
            var mark = bed.Calls().Count;

            await session.Files.WriteAsync(a, new MemoryStream(bytes)); // refused over the API, rewound, sent over SSH
            await session.Files.WriteAsync(b, new NonSeekable(new MemoryStream(bytes))); // straight to SSH: the session knows
            var text = await session.Files.ReadTextAsync(new DatastorePath("datastore1", "vm01/vm01.vmx"));
            await session.Files.DeleteAsync(a);

            Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(local, "b.bin")));
            Assert.False(File.Exists(Path.Combine(local, "a.bin")));
            Assert.Equal(["b.bin"], Directory.GetFiles(local).Select(Path.GetFileName)); // no temporary file left
            Assert.Contains("displayName", text);
            var calls = bed.CallsSince(mark);
            // The one refused upload (and its clean-up, refused too); nothing later tried the API.
            var refused = calls.Where(ApiWrite).ToList();
            Assert.Equal(["PUT", "DELETE"], refused.Select(c => c.Name.Split(' ')[0]));
            Assert.All(refused, c => Assert.Equal("403", c.Fault));
            Assert.All(refused, c => Assert.Contains("/.a.bin.ceso-", c.Name));
            Assert.Contains(calls, c => c.Channel == "http" && c.Name.StartsWith("GET /folder/vm01/vm01.vmx", StringComparison.Ordinal)); // reads stay on the API
        }
        finally
        {
            bed.ClearFaults();
            Directory.Delete(local, recursive: true);
        }
    }

    private sealed class NonSeekable(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
