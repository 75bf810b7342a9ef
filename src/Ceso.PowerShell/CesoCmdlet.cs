using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Ceso.Engine;
using Ceso.Engine.Connection;

namespace Ceso.PowerShell;

/// <summary>
/// Base of every Ceso cmdlet: Ctrl+C cancels the engine call, engine tasks run through one bridge that keeps every
/// Write* on the pipeline thread, and <c>-Server</c> resolves against the runspace's session registry.
/// </summary>
public abstract partial class CesoCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private BlockingCollection<Action>? _pipelineQueue;
    private int _pipelineThreadId;

    /// <summary>Cancelled when the user presses Ctrl+C or the pipeline stops.</summary>
    protected CancellationToken Cancellation => _cancel.Token;

    /// <summary>The open sessions of this runspace.</summary>
    protected SessionRegistry Sessions => SessionRegistry.Current;

    /// <summary>Cancels the engine call in flight.</summary>
    protected override void StopProcessing() => _cancel.Cancel();

    private CesoHome? _home;

    /// <summary>
    /// Ceso's home for this invocation: $CESO_HOME, else ~/.ceso, with the credential store's settings (CESO_CREDENTIAL_*),
    /// read once here at the edge and passed into the engine explicitly (the engine reads no environment).
    /// </summary>
    protected CesoHome Home => _home ??= CesoHome.FromEnvironment() with { CredentialSettings = CredentialSettings() };

    /// <summary>Disposes the cancellation source.</summary>
    public void Dispose()
    {
        _cancel.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Runs an engine task on the thread pool while this (pipeline) thread executes whatever the task posts through
    /// <see cref="Post"/>; returns when the task ends. Exceptions come out unwrapped.
    /// </summary>
    protected T RunEngine<T>(Func<CancellationToken, Task<T>> work)
    {
        // PowerShell refuses Write* from any thread but the pipeline thread, and engine continuations run on the
        // thread pool; so the pipeline thread pumps a queue of posted actions until the task completes.
        using var queue = new BlockingCollection<Action>();
        var outerQueue = _pipelineQueue;
        _pipelineQueue = queue;
        _pipelineThreadId = Environment.CurrentManagedThreadId;
        try
        {
            var task = Task.Run(() => work(_cancel.Token), _cancel.Token);
            _ = task.ContinueWith(_ => queue.CompleteAdding(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            foreach (var action in queue.GetConsumingEnumerable())
            {
                action();
            }

            return task.GetAwaiter().GetResult();
        }
        finally
        {
            _pipelineQueue = outerQueue;
        }
    }

    /// <summary>Runs an engine task that returns nothing; see <see cref="RunEngine{T}(Func{CancellationToken, Task{T}})"/>.</summary>
    protected void RunEngine(Func<CancellationToken, Task> work) =>
        RunEngine<bool>(async ct =>
        {
            await work(ct).ConfigureAwait(false);
            return true;
        });

    /// <summary>
    /// Runs an engine task; when it fails with an engine error or is cancelled, writes one non-terminating error
    /// for <paramref name="target"/> (the input) and returns false.
    /// </summary>
    protected bool TryRunEngine<T>(Func<CancellationToken, Task<T>> work, object? target, [MaybeNullWhen(false)] out T result)
    {
        try
        {
            result = RunEngine(work);
            return true;
        }
        catch (Exception e) when (ErrorMapper.IsEngineError(e))
        {
            WriteEngineError(e, target);
            result = default;
            return false;
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> on the pipeline thread: at once when called there, otherwise queued for the
    /// pump of the running <see cref="RunEngine{T}(Func{CancellationToken, Task{T}})"/>. Use it for WriteObject,
    /// WriteProgress, WriteWarning and WriteError from engine callbacks (IProgress, events).
    /// </summary>
    protected void Post(Action action)
    {
        var queue = _pipelineQueue;
        if (queue is null || Environment.CurrentManagedThreadId == _pipelineThreadId)
        {
            action();
            return;
        }

        try
        {
            queue.Add(action);
        }
        catch (InvalidOperationException)
        {
            // the engine call already ended (stopped pipeline): nobody is left to show this
        }
    }

    /// <summary>An <see cref="IProgress{T}"/> whose reports run on the pipeline thread.</summary>
    protected IProgress<T> OnPipeline<T>(Action<T> report) => new PostingProgress<T>(this, report);

    /// <summary>
    /// Writes a failed input as a non-terminating error. When the pipeline is stopping, a cancellation ends the
    /// pipeline instead of reporting an error the user caused with Ctrl+C.
    /// </summary>
    protected void WriteEngineError(Exception e, object? target)
    {
        if (e is OperationCanceledException && Stopping)
        {
            throw new PipelineStoppedException();
        }

        WriteError(ErrorMapper.ToErrorRecord(e, target));
    }

    /// <summary>
    /// The session that <c>-Server</c> names (a name, a session id or a Connect-CesoServer result), or the default
    /// session when <paramref name="server"/> is null. Without a default session nothing can continue, so that
    /// terminates with <c>NotConnected</c>; a named server that is not connected is one failed input: a non-terminating
    /// <c>NotConnected</c> error is written and null returned.
    /// </summary>
    protected CesoSession? ResolveServer(ServerIdentity? server)
    {
        var session = server is null ? Sessions.Default : Sessions.Find(server);
        if (session is not null)
        {
            return session;
        }

        if (server is null)
        {
            var none = new CesoException("NotConnected", CesoErrorKind.Connection,
                "There is no default Ceso server. Connect first: Connect-CesoServer -Server <host> -Credential root (and/or -SshUser root).");
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(none, null));
        }

        var error = new CesoException("NotConnected", CesoErrorKind.Connection,
            $"There is no open session to '{server}'. Connect first (Connect-CesoServer -Server {server} ...), or run Get-CesoServer to list the open sessions.")
        { Target = server?.ToString() };
        WriteError(ErrorMapper.ToErrorRecord(error, server));
        return null;
    }

    /// <summary>Records discovered names for tab completion; a cache that cannot be written costs only completions.</summary>
    protected void RecordNames(string server, string kind, IEnumerable<string> names)
    {
        try
        {
            new NameCache(Home).Record(server, kind, names);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteWarning($"Could not update the name cache for tab completion ({e.Message}). Tab completion of {kind} names for '{server}' may be out of date.");
        }
    }

    /// <summary>A path as PowerShell sees it (relative to the current location, ~ expanded) turned into a file-system path.</summary>
    protected string? ProviderPath(string? path) =>
        string.IsNullOrEmpty(path) ? path : GetUnresolvedProviderPathFromPSPath(path);

    private sealed class PostingProgress<T>(CesoCmdlet cmdlet, Action<T> report) : IProgress<T>
    {
        public void Report(T value) => cmdlet.Post(() => report(value));
    }
}
