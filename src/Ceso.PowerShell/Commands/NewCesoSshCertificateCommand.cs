using System.Management.Automation;
using System.Security.Cryptography;
using Ceso.Engine;
using Ceso.Engine.Planning;
using Ceso.Engine.Ssh;

namespace Ceso.PowerShell.Commands;

/// <summary>
/// <para type="synopsis">Issues a short-lived OpenSSH user certificate for an operator's key with ssh-keygen -s, for Connect-CesoServer -SshCertificate.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "CesoSshCertificate", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(SshCertificate))]
public sealed class NewCesoSshCertificateCommand : CesoCmdlet
{
    /// <summary>The longest validity allowed: operator certificates are meant to be short-lived.</summary>
    private static readonly TimeSpan MaxValidity = TimeSpan.FromDays(30);

    /// <summary>The CA's private key (with -UseAgent: its public key, the private key held by ssh-agent).</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string CaKeyPath { get; set; } = "";

    /// <summary>The operator's public key to certify (a private key's path is taken as its .pub next to it).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [Alias("KeyPath")]
    public string PublicKeyPath { get; set; } = "";

    /// <summary>The users the certificate may log in as on the host (default root).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[] Principal { get; set; } = ["root"];

    /// <summary>How long it is valid from now (default 8 hours, at most 30 days).</summary>
    [Parameter]
    public TimeSpan Validity { get; set; } = TimeSpan.FromHours(8);

    /// <summary>The key id written into the certificate (sshd logs it; Ceso's audit log records it); default: user@machine and the time.</summary>
    [Parameter]
    [ValidatePattern(@"^[^\x00-\x1f""]{1,200}$")]
    public string? KeyId { get; set; }

    /// <summary>Where the certificate goes; default: next to the public key, as ssh expects it (id_ed25519-cert.pub).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OutputPath { get; set; }

    /// <summary>The CA's private key is in ssh-agent; -CaKeyPath names its public key (ssh-keygen -U).</summary>
    [Parameter]
    public SwitchParameter UseAgent { get; set; }

    /// <summary>Replaces an existing certificate at the output path.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Checks the input, signs (a local plan: -WhatIf shows the exact ssh-keygen command, the audit log records it) and writes the certificate.</summary>
    protected override void ProcessRecord()
    {
        var ca = ProviderPath(CaKeyPath)!;
        var pub = ProviderPath(PublicKeyPath)!;
        if (!pub.EndsWith(".pub", StringComparison.Ordinal) && File.Exists(pub + ".pub"))
        {
            pub += ".pub";
        }

        if (!File.Exists(ca))
        {
            Fail("SshCaKeyNotFound", CesoErrorKind.NotFound, $"The CA key '{ca}' does not exist. Give the CA's private key with -CaKeyPath (or its public key with -UseAgent when ssh-agent holds it).", ca);
            return;
        }

        if (!File.Exists(pub))
        {
            Fail("SshPublicKeyNotFound", CesoErrorKind.NotFound, $"The public key '{pub}' does not exist. Give the operator's public key (…/id_ed25519.pub) with -PublicKeyPath.", pub);
            return;
        }

        if (Validity <= TimeSpan.Zero || Validity > MaxValidity)
        {
            Fail("SshCertificateValidityInvalid", CesoErrorKind.InvalidArgument, $"-Validity {Validity} is not allowed: more than 0 and at most {MaxValidity.TotalDays:0} days (operator certificates are meant to be short-lived; 8 hours is the default).", Validity);
            return;
        }

        var output = OutputPath is null ? pub[..^".pub".Length] + "-cert.pub" : ProviderPath(OutputPath)!;
        var signed = pub[..^".pub".Length] + "-cert.pub"; // where ssh-keygen writes it
        if (File.Exists(output) && !Force)
        {
            Fail("SshCertificateExists", CesoErrorKind.InvalidState, $"'{output}' exists. Add -Force to replace it, or give another -OutputPath.", output);
            return;
        }

        if (!pub.EndsWith(".pub", StringComparison.Ordinal))
        {
            Fail("SshPublicKeyNotFound", CesoErrorKind.InvalidArgument, $"'{pub}' is not a public key file (….pub). Give the operator's public key with -PublicKeyPath.", pub);
            return;
        }

        var keyId = KeyId ?? $"{Environment.UserName}@{Environment.MachineName} {DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ssZ}";
        var serial = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) >> 1; // random, so two certificates never share one
        var args = SshCertificates.IssueArguments(ca, UseAgent, pub, keyId, Principal, Validity, serial);
        SshCertificate? issued = null;
        var step = new PlanStep
        {
            Title = $"Issue an SSH certificate \"{keyId}\" for {string.Join(",", Principal)}",
            Target = output,
            Transport = "local",
            Command = "ssh-keygen " + string.Join(' ', args.Select(Ceso.Engine.Shell.ShellQuote.Quote)) + (output == signed ? "" : $" && mv {Ceso.Engine.Shell.ShellQuote.Quote(signed)} {Ceso.Engine.Shell.ShellQuote.Quote(output)}"),
            Execute = _ =>
            {
                // ssh-keygen writes next to the public key; an existing file there is kept unless it is the output.
                var keep = output != signed && File.Exists(signed) ? File.ReadAllBytes(signed) : null;
                SshCertificates.RunKeygen(args, $"sign '{pub}' with '{ca}'");
                if (output != signed)
                {
                    File.Move(signed, output, overwrite: true);
                    if (keep is not null) File.WriteAllBytes(signed, keep);
                }

                issued = SshCertificates.Read(output);
                return Task.CompletedTask;
            },
        };
        var plan = new Plan { Operation = "IssueSshCertificate", Host = "local", Steps = [step] };
        if (RunLocalPlan(plan, output) == PlanOutcome.Executed && issued is not null)
        {
            WriteObject(issued);
        }
    }

    private void Fail(string id, CesoErrorKind kind, string message, object target) =>
        WriteError(ErrorMapper.ToErrorRecord(new CesoException(id, kind, message) { Target = target }, target));
}
