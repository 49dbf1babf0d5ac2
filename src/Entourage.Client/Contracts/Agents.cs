using System.Text.Json.Nodes;

namespace Entourage.Client.Contracts;

public sealed record AgentDto(
    Guid Id,
    Guid TeamId,
    string Name,
    AgentRole Role,
    string? Model,
    string Adapter,
    JsonObject Config,
    AgentStatus Status,
    string? StatusReason,
    int ActiveTaskCount,
    long? CurrentTaskId,
    DateTime CreatedAt,
    string? Token = null,
    IReadOnlyList<string>? RunnerLabels = null);

/// <summary>
/// POST /teams/{team_id}/agents. <c>config.description</c> says what the agent is good at; <c>runner_labels</c>
/// pins the agent to nodes that have all of them (with the team's own labels).
/// </summary>
public sealed record CreateAgentRequest(
    string? Name,
    AgentRole? Role = null,
    string? Model = null,
    string? Adapter = null,
    JsonObject? Config = null,
    IReadOnlyList<string?>? RunnerLabels = null);

/// <summary>
/// PATCH /agents/{agent_id}: only the fields present change; <c>config</c> replaces the whole object;
/// <c>runner_labels: []</c> unpins the agent.
/// </summary>
public sealed record UpdateAgentRequest(
    string? Name = null,
    AgentRole? Role = null,
    string? Model = null,
    string? Adapter = null,
    JsonObject? Config = null,
    IReadOnlyList<string?>? RunnerLabels = null);

public sealed record AgentTokenDto(Guid AgentId, string Token);
