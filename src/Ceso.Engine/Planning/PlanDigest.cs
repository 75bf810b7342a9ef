using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace Ceso.Engine.Planning;

/// <summary>
/// A plan's digest: SHA-256 over everything the plan would do (operation, host, VM, and for every step its kind,
/// title, target, transport, exact command, undo, fallback, notes, its action and undo as data, and the SHA-256 of what it uploads). New identities
/// come from an <see cref="IdentitySeed"/>, so planning the same request against the same host state gives the same
/// digest, and any change on the host that changes a command or an upload (a .vmx edited, a VM renamed) gives another.
/// -WhatIf prints it and every audit record carries it, so an approval can be tied to exactly what was previewed.
/// </summary>
public static class PlanDigest
{
    private static readonly ConditionalWeakTable<Plan, string> Cache = new();

    /// <summary>The digest of <paramref name="plan"/>: "sha256:" and 64 hex digits.</summary>
    public static string Of(Plan plan) => Cache.GetValue(plan, Compute);

    /// <summary>Gives <paramref name="plan"/> a known digest: the plan as one run binds it keeps the digest of the plan as approved.</summary>
    internal static void Keep(Plan plan, string digest) => Cache.AddOrUpdate(plan, digest);

    /// <summary>The short form people compare by eye: the first 16 hex digits.</summary>
    public static string Short(Plan plan) => Of(plan)["sha256:".Length..][..16];

    private static string Compute(Plan plan)
    {
        var text = new StringBuilder("ceso-plan/1\n");
        void Field(string name, string? value) => text.Append(name).Append('=').Append(value?.Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
        Field("operation", plan.Operation);
        Field("host", plan.Host);
        Field("vm", plan.Vm);
        foreach (var note in plan.Notes)
        {
            Field("note", note);
        }

        foreach (var step in plan.Steps)
        {
            Step(step, "step");
        }

        return "sha256:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()))).ToLowerInvariant();

        void Step(PlanStep s, string kind)
        {
            Field(kind, s.Kind.ToString());
            Field("title", s.Title);
            Field("target", s.Target);
            Field("transport", s.Transport);
            Field("command", s.Command);
            Field("fallback", s.FallbackCommand);
            Field("undo", s.UndoCommand);
            Field("releases", s.Releases);
            Field("inside", s.Inside);
            Field("action", s.Action is null ? null : PlanInterpreter.Canonical(s.Action));
            Field("undo-action", s.UndoAction is null ? null : PlanInterpreter.Canonical(s.UndoAction));
            Field("payload", s.Payload is null ? null : Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(s.Payload))));
            foreach (var note in s.Notes)
            {
                Field("step-note", note);
            }
        }
    }
}
