namespace Entourage.Client.Contracts;

/// <summary>
/// GET /api/v1/nodes: a server or runner process sharing the PostgreSQL database (issue #10). <c>state</c> is
/// <c>active</c> (heartbeating), <c>lost</c> (stopped heartbeating; its turns are recovered by the lease rules)
/// or <c>stopped</c> (shut down cleanly). <c>max_concurrent_turns</c> 0 means the node runs no agents.
/// </summary>
public sealed record NodeDto(
    string Id,
    string Role,
    string State,
    IReadOnlyList<string> Labels,
    string? Version,
    string? Host,
    int MaxConcurrentTurns,
    int RunningTurns,
    IReadOnlyList<NodeTurnDto> Turns,
    DateTime StartedAt,
    DateTime HeartbeatAt,
    DateTime? StoppedAt);

/// <summary>A turn running on a node.</summary>
public sealed record NodeTurnDto(Guid TurnId, Guid AgentId, Guid TeamId, long? TaskId, DateTime StartedAt, DateTime LeaseUntil);
