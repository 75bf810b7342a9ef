using System.Text;
using Ceso.Engine.Hosts;

namespace Ceso.Tests.Engine;

public sealed class SshVmReadsTests
{
    private const string Marker = "ceso-reads-00112233445566778899aabbccddeeff";

    private static string Frame(string id, string verb, string stdout, string stderr = "", int rc = 0) =>
        $"\n{Marker} out {id} {verb}\n{stdout}\n{Marker} err\n{stderr}\n{Marker} rc {rc}";

    private static string Stream(params string[] ids)
    {
        var sb = new StringBuilder();
        foreach (var id in ids)
        {
            foreach (var verb in SshVmReads.Verbs)
            {
                sb.Append(Frame(id, verb, $"dump of {verb} for {id}\n"));
            }
        }

        return sb.Append($"\n{Marker} end\n").ToString();
    }

    [Fact]
    public void A_complete_stream_gives_every_vms_four_results_in_order_as_if_each_vim_cmd_ran_alone()
    {
        Assert.True(SshVmReads.TryParse(Stream("10", "12"), Marker, ["10", "12"], out var reads, out var why), why);

        Assert.Equal(["10", "12"], reads.Keys.Order());
        var r = reads["12"][1];
        Assert.Equal("vim-cmd vmsvc/get.summary 12", r.CommandLine);
        Assert.Equal((0, "dump of vmsvc/get.summary for 12\n", ""), (r.ExitCode, r.Stdout, r.Stderr));
    }

    [Fact]
    public void Output_is_kept_byte_for_byte_including_missing_and_extra_newlines()
    {
        var text = Frame("7", "vmsvc/get.config", "no newline at the end") + Frame("7", "vmsvc/get.summary", "\n\ntwo before, two after\n\n")
            + Frame("7", "vmsvc/get.guest", "") + Frame("7", "vmsvc/get.snapshotinfo", "(vim.vm.SnapshotInfo) null\n") + $"\n{Marker} end\n";

        Assert.True(SshVmReads.TryParse(text, Marker, ["7"], out var reads, out var why), why);
        Assert.Equal(["no newline at the end", "\n\ntwo before, two after\n\n", "", "(vim.vm.SnapshotInfo) null\n"], reads["7"].Select(r => r.Stdout));
    }

    [Fact]
    public void A_failed_call_keeps_its_exit_code_and_stderr_so_not_found_is_judged_as_before()
    {
        const string notFound = "(vim.fault.NotFound) {\n   msg = \"Unable to find a VM corresponding to \"9\"\"\n}\n";
        var text = Frame("9", "vmsvc/get.config", "", notFound, 1) + Frame("9", "vmsvc/get.summary", "", notFound, 1)
            + Frame("9", "vmsvc/get.guest", "", notFound, 1) + Frame("9", "vmsvc/get.snapshotinfo", "", notFound, 1) + $"\n{Marker} end\n";

        Assert.True(SshVmReads.TryParse(text, Marker, ["9"], out var reads, out var why), why);
        var e = Assert.Throws<Ceso.Engine.RemoteCommandException>(() => reads["9"][0].EnsureSuccess("esx1"));
        Assert.Contains("vim.fault.NotFound", e.Stderr);
        Assert.Equal(1, e.ExitCode);
        Assert.Contains("'vim-cmd vmsvc/get.config 9' failed on esx1", e.Message);
    }

    [Fact]
    public void Names_and_annotations_holding_marker_like_text_stay_inside_their_frame()
    {
        // What someone could put in a VM's notes: an old or guessed marker, framing keywords, a fake end.
        const string hostile = "annotation = \"x\nceso-reads-ffffffffffffffffffffffffffffffff out 12 vmsvc/get.config\n" +
            "ceso-reads-ffffffffffffffffffffffffffffffff end\n ceso-reads- rc 0\nout 10 vmsvc/get.summary\nerr\nend\n\"\n";
        var text = Frame("10", "vmsvc/get.config", hostile) + Stream("10")[Frame("10", "vmsvc/get.config", "dump of vmsvc/get.config for 10\n").Length..];

        Assert.True(SshVmReads.TryParse(text, Marker, ["10"], out var reads, out var why), why);
        Assert.Equal(hostile, reads["10"][0].Stdout);
        Assert.Equal(4, reads["10"].Count);
    }

    [Fact]
    public void A_truncated_stream_is_incomplete_wherever_it_is_cut()
    {
        var full = Stream("10", "12");
        for (var cut = 0; cut < full.Length - 1; cut += 7)
        {
            Assert.False(SshVmReads.TryParse(full[..cut], Marker, ["10", "12"], out _, out var why), $"cut at {cut}");
            Assert.NotEmpty(why);
        }
    }

    [Fact]
    public void A_vm_missing_from_the_stream_or_one_not_asked_for_makes_it_incomplete()
    {
        Assert.False(SshVmReads.TryParse(Stream("10"), Marker, ["10", "12"], out _, out var why));
        Assert.Equal("vmid 12 is missing", why);
        Assert.False(SshVmReads.TryParse(Stream("10", "13"), Marker, ["10", "12"], out _, out why));
        Assert.Contains("malformed", why);
    }

    [Fact]
    public void Frames_under_another_marker_or_out_of_order_are_not_read()
    {
        Assert.False(SshVmReads.TryParse(Stream("10").Replace(Marker, "ceso-reads-" + new string('0', 32), StringComparison.Ordinal), Marker, ["10"], out _, out _));
        var swapped = Frame("10", "vmsvc/get.summary", "") + Frame("10", "vmsvc/get.config", "") + Frame("10", "vmsvc/get.guest", "")
            + Frame("10", "vmsvc/get.snapshotinfo", "") + $"\n{Marker} end\n";
        Assert.False(SshVmReads.TryParse(swapped, Marker, ["10"], out _, out _));
        Assert.False(SshVmReads.TryParse("Traceback (most recent call last):\n" + Stream("10"), Marker, ["10"], out _, out _));
        Assert.False(SshVmReads.TryParse("", Marker, ["10"], out _, out var why));
        Assert.Equal("no frame", why);
    }

    [Fact]
    public void The_host_programs_are_fixed_text_and_only_marker_and_vmids_are_quoted_arguments()
    {
        var marker = SshVmReads.NewMarker();
        Assert.Matches("^ceso-reads-[0-9a-f]{32}$", marker);
        Assert.NotEqual(marker, SshVmReads.NewMarker());

        var py = SshVmReads.PythonCommand(marker, ["10", "12"]);
        Assert.StartsWith("python -c '", py);
        Assert.EndsWith($"' {marker} {SshVmReads.Parallel} 10 12", py);
        Assert.Equal(Ceso.Engine.Shell.ShellQuote.Join("python", "-c", SshVmReads.PythonScript, marker, "8", "10", "12"), py);
        var sh = SshVmReads.ShellCommand(marker, ["10"]);
        Assert.Equal(Ceso.Engine.Shell.ShellQuote.Join("/bin/sh", "-c", SshVmReads.ShellLoop, "ceso-reads", marker, "8", "10"), sh);
        Assert.All(SshVmReads.Verbs, v => Assert.Contains(v, SshVmReads.PythonScript));
        Assert.All(SshVmReads.Verbs, v => Assert.Contains(v, SshVmReads.ShellLoop));
    }
}
