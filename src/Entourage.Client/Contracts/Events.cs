using System.Text.Json.Nodes;

namespace Entourage.Client.Contracts;

/// <summary>Who did something: a person (REST/CLI/dashboard), an agent (MCP), or the system (dispatcher, sweeper).</summary>
public sealed record ActorDto(ActorType Type, string? Id, string Name);

/// <summary>
/// One entry of a task's timeline (GET /tasks/{task_id}/events). <c>kind</c>: created, assigned, unassigned,
/// status_changed (with <c>from_status</c>/<c>to_status</c>), dependency_added, dependency_removed, updated,
/// unblocked, dependency_failed, message, turn_started, turn_ended, usage, review_requested…
/// </summary>
public sealed record TaskEventDto(
    long Id,
    long TaskId,
    Guid TeamId,
    string Kind,
    ActorDto Actor,
    string? FromStatus,
    string? ToStatus,
    JsonNode? Data,
    DateTime CreatedAt);
