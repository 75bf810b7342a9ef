using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using Ceso.Engine.Connection;

namespace Ceso.PowerShell;

/// <summary>
/// The open sessions of one runspace and which of them is the default. Connect-CesoServer adds a session and makes
/// it the default; Disconnect-CesoServer removes and disposes it; closing the runspace or removing the module
/// disposes what is left.
/// </summary>
public sealed class SessionRegistry
{
    // Keyed per runspace rather than one static list: one process can host many runspaces (ForEach-Object -Parallel,
    // Start-ThreadJob, runspace pools, PowerShell hosted in a service), and a process-wide list would let one
    // runspace's script use or disconnect another's sessions and its default server. The weak table lets a
    // runspace's registry be collected together with the runspace.
    private static readonly ConditionalWeakTable<Runspace, SessionRegistry> _byRunspace = new();

    private readonly object _gate = new();
    private readonly List<Entry> _entries = [];
    private Entry? _default;

    private SessionRegistry()
    {
    }

    /// <summary>The registry of the runspace running on this thread (the pipeline thread of a cmdlet or completer).</summary>
    public static SessionRegistry Current => Of(Runspace.DefaultRunspace
        ?? throw new InvalidOperationException("Ceso cmdlets must run in a PowerShell runspace."));

    /// <summary>The registry of a runspace, created on first use.</summary>
    public static SessionRegistry Of(Runspace runspace) => _byRunspace.GetValue(runspace, r =>
    {
        var registry = new SessionRegistry();
        r.StateChanged += (_, e) =>
        {
            if (e.RunspaceStateInfo.State is RunspaceState.Closing or RunspaceState.Broken)
            {
                registry.DisposeAll();
            }
        };
        return registry;
    });

    /// <summary>The default session (the one most recently connected that is still open), or null.</summary>
    public CesoSession? Default
    {
        get
        {
            lock (_gate)
            {
                return _default?.Session;
            }
        }
    }

    /// <summary>The open sessions, oldest first.</summary>
    public IReadOnlyList<CesoServerInfo> List()
    {
        lock (_gate)
        {
            return _entries.Select(e => Info(e)).ToList();
        }
    }

    /// <summary>Adds a connected session and makes it the default. <paramref name="version"/> is the host's version as discovered.</summary>
    public CesoServerInfo Add(CesoSession session, string? version)
    {
        lock (_gate)
        {
            var entry = new Entry(session, version);
            _entries.Add(entry);
            _default = entry;
            return Info(entry);
        }
    }

    /// <summary>
    /// Removes a session; when it was the default, the most recently connected remaining session becomes the default.
    /// Returns false when it was not registered. The caller disposes the session.
    /// </summary>
    public bool Remove(CesoSession session)
    {
        lock (_gate)
        {
            var removed = _entries.RemoveAll(e => e.Session == session) > 0;
            if (_default?.Session == session)
            {
                _default = _entries.Count > 0 ? _entries[^1] : null;
            }

            return removed;
        }
    }

    /// <summary>
    /// The session an identity names: by session id, else by server name (case-insensitive; when several sessions
    /// share the name, the default one, else the most recent).
    /// </summary>
    public CesoSession? Find(ServerIdentity identity)
    {
        lock (_gate)
        {
            if (identity.Id is { } id)
            {
                return _entries.FirstOrDefault(e => e.Session.Id == id)?.Session;
            }

            var named = _entries.Where(e => string.Equals(e.Session.Server, identity.Name, StringComparison.OrdinalIgnoreCase)).ToList();
            return named.Contains(_default!) ? _default!.Session : named.LastOrDefault()?.Session;
        }
    }

    /// <summary>
    /// A session to <paramref name="server"/> whose API login is not <paramref name="notUser"/> (an agent's own account
    /// cannot widen its permissions): the default one when it qualifies, else the most recent; null when there is none.
    /// </summary>
    public CesoSession? FindAdmin(string server, string notUser)
    {
        lock (_gate)
        {
            var named = _entries.Where(e => string.Equals(e.Session.Server, server, StringComparison.OrdinalIgnoreCase)
                && !string.Equals(e.Session.Profile.SoapUser, notUser, StringComparison.Ordinal)).ToList();
            return named.Contains(_default!) ? _default!.Session : named.LastOrDefault()?.Session;
        }
    }

    /// <summary>Removes and disposes every session (runspace closing, module removed).</summary>
    public void DisposeAll()
    {
        List<Entry> all;
        lock (_gate)
        {
            all = [.. _entries];
            _entries.Clear();
            _default = null;
        }

        foreach (var entry in all)
        {
            // Bounded: a host that no longer answers must not hang the closing runspace.
            _ = entry.Session.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
        }
    }

    private CesoServerInfo Info(Entry e) => CesoServerInfo.From(e.Session, e.Version, isDefault: e == _default);

    private sealed record Entry(CesoSession Session, string? Version);
}
