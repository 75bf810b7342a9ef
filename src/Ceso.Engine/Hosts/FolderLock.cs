using Ceso.Engine.Formats;

namespace Ceso.Engine.Hosts;

/// <summary>
/// A lock that is a folder on a datastore (creating a folder is atomic on VMFS, over the API and SSH alike), and
/// what this run knows about it. The release removes the folder only when this run made it: a folder that was there
/// already belongs to someone else (another hot copy of the same VM) and is never touched. When the mkdir's outcome
/// is unknown (the connection broke or it was cancelled while it ran), a folder that is not there is nothing to
/// release, and one that is there cannot be told apart from another run's lock: it stays, and the error says how to
/// remove it once no other hot copy runs.
/// </summary>
/// <param name="folder">The lock folder.</param>
/// <param name="server">The host's name, for errors.</param>
public sealed class FolderLock(DatastorePath folder, string server)
{
    /// <summary>The lock folder.</summary>
    public DatastorePath Folder { get; } = folder;

    /// <summary>What this run knows about the folder.</summary>
    public FolderLockState State { get; private set; } = FolderLockState.NotTried;

    /// <summary>
    /// The mkdir that takes the lock, recording whether this run made the folder. A folder that exists already fails
    /// the call with <c>HotCopyLocked</c>.
    /// </summary>
    public HostCall Acquire(IHostCommands t)
    {
        var mkdir = t.MakeDirectory(Folder);
        return mkdir with
        {
            Run = async ct =>
            {
                State = FolderLockState.Unknown;
                try
                {
                    await mkdir.Run(ct).ConfigureAwait(false);
                    State = FolderLockState.Made;
                }
                catch (Exception e) when (IsAlreadyExists(e))
                {
                    State = FolderLockState.HeldByAnother;
                    throw new CesoException("HotCopyLocked", CesoErrorKind.InvalidState,
                        $"{Folder} exists on {server}: another hot copy of this VM is running (or one that crashed left its lock). " +
                        $"Wait for it to finish; if none runs, remove the folder by hand (rm -rf {Shell.ShellQuote.Quote(Folder.Vmfs)}).", e)
                    { Host = server, Target = Folder.ToString() };
                }
                catch (Exception e) when (!MayHaveRun(e))
                {
                    // A clear failure (a refusal by a free license, whose SSH twin runs next; a missing parent folder):
                    // nothing was made. Only a cut connection or a cancellation leaves the state Unknown.
                    State = FolderLockState.NotTried;
                    throw;
                }
            },
            RunWithProgress = null,
        };
    }

    /// <summary>
    /// The release: removes the folder when this run made it; nothing when the lock was not taken or was another's;
    /// when the outcome is unknown, nothing if the folder is not there (<paramref name="exists"/>), else the error
    /// <c>HotCopyLockOwnerUnknown</c> naming the folder and the command that removes it.
    /// </summary>
    public HostCall Release(IHostCommands t, Func<DatastorePath, CancellationToken, Task<bool>> exists)
    {
        var remove = t.DeleteDirectory(Folder);
        string? skipped = null;
        return new HostCall(remove.Transport, () => skipped is null ? remove.Command : $"nothing to remove: {skipped} (not: {remove.Command})", async ct =>
        {
            skipped = null;
            switch (State)
            {
                case FolderLockState.Made:
                    await remove.Run(ct).ConfigureAwait(false);
                    State = FolderLockState.Released;
                    return;
                case FolderLockState.Unknown when await exists(Folder, ct).ConfigureAwait(false):
                    throw new CesoException("HotCopyLockOwnerUnknown", CesoErrorKind.InvalidState,
                        $"Ceso cannot tell whether this run made the lock folder {Folder} on {server} (the step that makes it was cut off) or another hot copy did. " +
                        $"If no other hot copy of this VM is running, remove it by hand (rm -rf {Shell.ShellQuote.Quote(Folder.Vmfs)}).")
                    { Host = server, Target = Folder.ToString() };
                case FolderLockState.Unknown:
                    skipped = $"{Folder} was never made";
                    return;
                case FolderLockState.HeldByAnother:
                    skipped = $"{Folder} is another hot copy's lock";
                    return;
                default:
                    skipped = $"this run did not take the lock {Folder}";
                    return;
            }
        });
    }

    private static bool MayHaveRun(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e is CesoException { MayHaveTakenEffect: true } or OperationCanceledException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A mkdir that failed because the folder is there: the API's <c>FileAlreadyExists</c>, or mkdir's "File exists".</summary>
    public static bool IsAlreadyExists(Exception e) =>
        e is VimFaultException { FaultType: "FileAlreadyExists" }
        || (e is RemoteCommandException r && r.Stderr.Contains("File exists", StringComparison.Ordinal));
}

/// <summary>What a run knows about a <see cref="FolderLock"/>.</summary>
public enum FolderLockState
{
    /// <summary>The mkdir has not run (or the host refused it before doing anything).</summary>
    NotTried,

    /// <summary>The mkdir ran but its outcome is unknown (cut off or cancelled).</summary>
    Unknown,

    /// <summary>This run made the folder: it is this run's lock.</summary>
    Made,

    /// <summary>The folder was there already: another run's lock, never removed by this one.</summary>
    HeldByAnother,

    /// <summary>This run made it and removed it.</summary>
    Released,
}
