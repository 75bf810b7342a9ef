using Ceso.Engine.Connection;
using Ceso.Engine.Formats;
using Ceso.Engine.Hosts;
using Ceso.Engine.Planning;
using Ceso.Engine.Planning.Actions;

namespace Ceso.Engine.Operations;

/// <summary>
/// What every operation plans against: the session (its host adapter chooses the transport; an operation never
/// does), the local state folder, and the small rules they share — how a host call becomes a plan step, how a .vmx is
/// read, how bad input is refused. Built once per <see cref="VmOperations"/>; it holds no state of its own.
/// </summary>
internal sealed class OperationContext(CesoSession session, CesoHome home)
{
    /// <summary>The session planned against.</summary>
    public CesoSession Session { get; } = session;

    /// <summary>The local state folder (template registry, identity key, protection list).</summary>
    public CesoHome Home { get; } = home;

    /// <summary>The session adapter's host commands (API writes with SSH twins, or SSH alone).</summary>
    public IHostCommands Commands { get; } = session.Host.Commands;

    /// <summary>The host's name as errors and step targets show it.</summary>
    public string Host => Session.Server;

    /// <summary>Runs the data steps of the plans made in this context (<see cref="Plan.Interpreter"/>).</summary>
    public PlanInterpreter Interpreter { get; } = PlanInterpreter.For(session, home);

    /// <summary>
    /// A step that is data: a host action (over both transports when the adapter has two) and its undo, with the text
    /// the interpreter renders for them (placeholders for ids a run learns).
    /// </summary>
    /// <param name="title">Short title.</param>
    /// <param name="target">ShouldProcess target.</param>
    /// <param name="action">The change.</param>
    /// <param name="undo">Its undo.</param>
    /// <param name="coveredBy">For changes an earlier step's undo takes care of (a file in a new folder): how, as the undo text.</param>
    /// <param name="inside">The title of the earlier step whose undo removes this step's traces (<see cref="PlanStep.Inside"/>).</param>
    public PlanStep Step(string title, string target, StepAction action, StepAction? undo = null, string? coveredBy = null, string? inside = null)
    {
        var c = Interpreter.Render(action);
        undo ??= coveredBy is null ? null : new CoveredBy(coveredBy);
        return new PlanStep
        {
            Title = title,
            Target = target,
            Transport = c.Transport,
            Command = c.Command,
            FallbackCommand = c.FallbackCommand,
            Action = action,
            UndoAction = undo,
            UndoCommand = undo is null ? null : Interpreter.Render(undo).Command,
            Inside = inside,
            Payload = c.Payload,
        };
    }

    /// <summary>A plan of this context's steps, run by its <see cref="Interpreter"/>.</summary>
    public Plan Plan(string operation, string? vm, IReadOnlyList<PlanStep> steps, IReadOnlyList<string>? notes = null) =>
        new() { Operation = operation, Host = Host, Vm = vm, Steps = steps, Notes = notes ?? [], Interpreter = Interpreter };

    /// <summary>
    /// How long deleting a new VM's folder may take as an undo: 10 minutes plus 2 s per GiB of disks it may hold
    /// (VMFS frees large files in the background, but a thick or eager-zeroed disk still takes time).
    /// </summary>
    public static TimeSpan FolderUndoBound(long diskBytes) =>
        TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(2 * Math.Ceiling(diskBytes / 1073741824.0));

    /// <summary>Bad input, refused before anything changes: InvalidArgument with the host and the offending value.</summary>
    public CesoException Invalid(string id, string message, string target) =>
        new(id, CesoErrorKind.InvalidArgument, message) { Target = target, Host = Host };

    /// <summary>Where the VM's .vmx is, or VmxPathUnknown when the host does not say.</summary>
    public DatastorePath VmxPathOf(Model.CesoVm vm) =>
        DatastorePath.Parse(vm.VmxPath ?? throw Invalid("VmxPathUnknown", $"The host does not say where the .vmx of '{vm.Name}' is.", vm.Name));

    /// <summary>Whether a file or folder exists on a datastore (through the session's Files).</summary>
    public Task<bool> ExistsAsync(DatastorePath path, CancellationToken ct) => Session.Files.ExistsAsync(path, ct);

    /// <summary>A small text file from a datastore (through the session's Files).</summary>
    public Task<string> ReadTextAsync(DatastorePath path, CancellationToken ct) => Session.Files.ReadTextAsync(path, ct);

    /// <summary>A .vmx read from the host; a line Ceso cannot read is an error naming the file, not a crash.</summary>
    public VmxFile ParseVmx(string text, DatastorePath path)
    {
        try
        {
            return VmxFile.Parse(text);
        }
        catch (FormatException e)
        {
            throw new CesoException("UnreadableVmx", CesoErrorKind.HostError, $"{path} on {Host} has a line Ceso cannot read ({e.Message}). Fix the file, or change the VM with the host's own tools.", e)
            { Target = path.ToString(), Host = Host };
        }
    }
}
