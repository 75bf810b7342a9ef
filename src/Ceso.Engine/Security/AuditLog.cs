using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ceso.Engine.Security;

/// <summary>One audit record: a step that ran (or was previewed), who asked for it, and how it ended.</summary>
public sealed record AuditRecord
{
    /// <summary>When (UTC).</summary>
    [JsonPropertyName("time")] public DateTimeOffset Time { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>The OS user that ran Ceso (from the <see cref="AuditActor"/> the executor was given).</summary>
    [JsonPropertyName("operator")] public string Operator { get; init; } = "";
    /// <summary>The AI agent's name (CESO_AGENT when the record was written), if one was driving.</summary>
    /// <remarks>No default from the environment: a record read back must say what was written, not who runs Ceso today.</remarks>
    [JsonPropertyName("agent")] public string? Agent { get; init; }
    /// <summary>The key id of the SSH certificate the session logged in with, if it used one (who it was issued to).</summary>
    [JsonPropertyName("sshCertificate")] public string? SshCertificate { get; init; }
    /// <summary>The operation (CreateVm, CloneVm, …).</summary>
    [JsonPropertyName("operation")] public required string Operation { get; init; }
    /// <summary>The host.</summary>
    [JsonPropertyName("host")] public required string Host { get; init; }
    /// <summary>The VM, if the step is about one.</summary>
    [JsonPropertyName("vm")] public string? Vm { get; init; }
    /// <summary>The digest of the plan the step belongs to ("sha256:…", as -WhatIf printed it).</summary>
    [JsonPropertyName("plan")] public string? Plan { get; init; }
    /// <summary>The transport: ssh, soap, local.</summary>
    [JsonPropertyName("transport")] public required string Transport { get; init; }
    /// <summary>The exact command or SOAP call, redacted.</summary>
    [JsonPropertyName("command")] public required string Command { get; init; }
    /// <summary>preview (-WhatIf), declined (at -Confirm), refused (an agent's plan without a grant), granted (an agent's plan a grant allowed), ok, failed, cancelled, undone, undo-failed, cleanup-failed, cleanup-skipped (an earlier cleanup it waits on failed).</summary>
    [JsonPropertyName("result")] public required string Result { get; init; }
    /// <summary>Error text (redacted), when the step failed.</summary>
    [JsonPropertyName("error")] public string? Error { get; init; }
    /// <summary>How long the step took.</summary>
    [JsonPropertyName("durationMs")] public long DurationMs { get; init; }
    /// <summary>SHA-256 (hex) of the previous record's line; 64 zeros for the first.</summary>
    [JsonPropertyName("prev")] public string Previous { get; init; } = "";
}

/// <summary>Who asks for the changes an executor records: the OS user and the AI agent driving Ceso, if any.</summary>
/// <param name="Operator">The OS user.</param>
/// <param name="Agent">The agent's name (the front end reads it from CESO_AGENT); null when a person drives.</param>
/// <param name="SshCertificate">The key id of the SSH certificate the session logged in with, or null.</param>
public sealed record AuditActor(string Operator, string? Agent, string? SshCertificate = null);

/// <summary>The result of checking an audit log's hash chain.</summary>
/// <param name="Path">The log file.</param>
/// <param name="Records">How many records it holds.</param>
/// <param name="Intact">True when every record carries the hash of the one before it.</param>
/// <param name="FirstBrokenLine">The first record (1-based line) whose chain link is wrong, when not intact.</param>
public sealed record AuditCheck(string Path, int Records, bool Intact, int? FirstBrokenLine);

/// <summary>
/// The append-only audit log: JSON lines in $CESO_HOME/audit/audit.jsonl, each carrying the SHA-256 of the line
/// before it, so that removing or editing a record breaks the chain (<see cref="Verify"/>). Every text field is
/// redacted before it is written. Writers in several processes are serialised by an exclusive file open.
/// </summary>
public sealed class AuditLog(string path, Redactor redactor)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // readable with grep; not HTML
    };

    /// <summary>The chain value before the first record.</summary>
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    /// <summary>The log file.</summary>
    public string Path { get; } = path;

    /// <summary>Opens the log under a Ceso home.</summary>
    public static AuditLog Open(Connection.CesoHome home, Redactor redactor) => new(home.File("audit", "audit.jsonl"), redactor);

    /// <summary>Appends a record (redacted, chained) and returns what was written.</summary>
    public AuditRecord Append(AuditRecord record)
    {
        var clean = record with
        {
            Command = redactor.Redact(record.Command),
            Error = record.Error is null ? null : redactor.Redact(record.Error),
            Vm = record.Vm is null ? null : redactor.Redact(record.Vm),
        };
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                // FileShare.None takes an exclusive lock (flock on Unix), so writers in any process take turns.
                using var fs = new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                var chained = clean with { Previous = HashOfLastLine(fs) };
                var line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(chained, Json) + "\n");
                fs.Seek(0, SeekOrigin.End);
                fs.Write(line);
                fs.Flush(flushToDisk: true);
                return chained;
            }
            catch (IOException) when (attempt < 500)
            {
                Thread.Sleep(Random.Shared.Next(2, 20)); // another writer holds the lock
            }
        }
    }

    /// <summary>Checks the whole chain; returns the 1-based number of the first bad line, or 0 when it is intact.</summary>
    public int Verify()
    {
        if (!File.Exists(Path))
        {
            return 0;
        }

        var prev = Genesis;
        var n = 0;
        foreach (var line in File.ReadAllLines(Path, Encoding.UTF8))
        {
            n++;
            // A blank or non-JSON line is as much a break in the chain as an edited record.
            if (Parse(line) is not { } r || r.Previous != prev)
            {
                return n;
            }

            prev = Hash(line);
        }

        return 0;
    }

    /// <summary>Checks the chain and says how many records the log holds (Test-CesoAuditLog).</summary>
    public AuditCheck Check()
    {
        var records = File.Exists(Path) ? File.ReadAllLines(Path).Length : 0;
        var broken = Verify();
        return new AuditCheck(Path, records, broken == 0, broken == 0 ? null : broken);
    }

    /// <summary>All readable records; a non-empty line that is not a record is skipped and its 1-based number passed to <paramref name="unreadable"/>.</summary>
    /// <remarks>The file is read at once (not streamed), so a slow reader never holds it while writers wait.</remarks>
    public IReadOnlyList<AuditRecord> Read(Action<int>? unreadable = null)
    {
        if (!File.Exists(Path))
        {
            return [];
        }

        var records = new List<AuditRecord>();
        var lines = File.ReadAllLines(Path, Encoding.UTF8);
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0)
            {
                continue;
            }

            if (Parse(lines[i]) is { } r)
            {
                records.Add(r);
            }
            else
            {
                unreadable?.Invoke(i + 1);
            }
        }

        return records;
    }

    private static AuditRecord? Parse(string line)
    {
        try
        {
            return JsonSerializer.Deserialize<AuditRecord>(line);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string HashOfLastLine(FileStream fs)
    {
        if (fs.Length == 0)
        {
            return Genesis;
        }

        // Read backwards to the start of the last line; records are small, so 64 KiB chunks reach it at once.
        var end = fs.Length - 1; // the final '\n'
        var start = end;
        var buffer = new byte[64 * 1024];
        while (start > 0)
        {
            var chunk = (int)Math.Min(buffer.Length, start);
            fs.Seek(start - chunk, SeekOrigin.Begin);
            fs.ReadExactly(buffer, 0, chunk);
            var nl = Array.LastIndexOf(buffer, (byte)'\n', chunk - 1, chunk);
            if (nl >= 0)
            {
                start = start - chunk + nl + 1;
                break;
            }

            start -= chunk;
        }

        var bytes = new byte[end - start];
        fs.Seek(start, SeekOrigin.Begin);
        fs.ReadExactly(bytes);
        return Hash(Encoding.UTF8.GetString(bytes));
    }

    private static string Hash(string line) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(line))).ToLowerInvariant();
}
