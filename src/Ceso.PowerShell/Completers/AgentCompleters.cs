using Ceso.Engine.Connection;
using Ceso.Engine.Security;

namespace Ceso.PowerShell.Completers;

/// <summary>Completes Grant-CesoAgentAccess -Operation with the operations Ceso plans.</summary>
public sealed class AgentOperationCompleter : LocalNameCompleter
{
    /// <inheritdoc />
    protected override IEnumerable<(string Name, string Tooltip)> Read(CesoHome home) => AgentPolicy.KnownOperations.Select(o => (o, o));
}

/// <summary>Completes -Agent with the agents that have grants in $CESO_HOME (a local file only).</summary>
public sealed class AgentNameCompleter : LocalNameCompleter
{
    /// <inheritdoc />
    protected override IEnumerable<(string Name, string Tooltip)> Read(CesoHome home) =>
        new AgentGrantStore(home).List().Select(g => (g.Agent, $"agent '{g.Agent}'"));
}
