namespace Entourage.Client.Contracts;

/// <summary>Tokens and cost of a turn, from the agent CLI's own final record.</summary>
public sealed record TurnUsageDto(long InputTokens, long OutputTokens, long CacheReadTokens, long CacheWriteTokens, double CostUsd);

/// <summary>One run of an agent's CLI process. <c>log</c> is included by GET /turns/{id} only.</summary>
public sealed record TurnDto(
    Guid Id,
    Guid AgentId,
    Guid TeamId,
    long? TaskId,
    TurnState State,
    string Node,
    int Attempt,
    DateTime StartedAt,
    DateTime? EndedAt,
    int? ExitCode,
    string? Error,
    string? SessionId,
    string? WorkingDirectory,
    TurnUsageDto Usage,
    IReadOnlyList<TurnRequestDto>? Requests = null,
    string? Log = null);

/// <summary>A dispatch request a turn took: why the agent was woken.</summary>
public sealed record TurnRequestDto(long Id, DispatchReason Reason, string? Ref, long? TaskId, DispatchState State, int Attempts);

/// <summary>POST /turns/{id}/cancel (body optional).</summary>
public sealed record CancelTurnRequest(string? Reason = null);

/// <summary>GET /teams/{id}/costs: spend by agent, task and UTC day, and today's spend against the daily limit.</summary>
public sealed record TeamCostsDto(
    Guid TeamId,
    DateOnly From,
    DateOnly To,
    double TotalUsd,
    double SpentTodayUsd,
    double? DailyCostLimitUsd,
    bool OverBudget,
    IReadOnlyList<CostByAgentDto> ByAgent,
    IReadOnlyList<CostByTaskDto> ByTask,
    IReadOnlyList<CostByDayDto> ByDay);

public sealed record CostByAgentDto(Guid AgentId, string? AgentName, double CostUsd, long InputTokens, long OutputTokens, int Turns);

public sealed record CostByTaskDto(long? TaskId, string? Title, double CostUsd, long InputTokens, long OutputTokens);

public sealed record CostByDayDto(DateOnly Day, double CostUsd, long InputTokens, long OutputTokens);
