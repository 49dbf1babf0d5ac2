namespace Entourage.Client.Contracts;

/// <summary>A question an agent asked a person (ask_human). <c>options</c> lists the choices of a choice request.</summary>
public sealed record HumanRequestDto(
    long Id,
    Guid TeamId,
    Guid? AgentId,
    string? AgentName,
    long? TaskId,
    HumanRequestKind Kind,
    string Question,
    IReadOnlyList<string>? Options,
    HumanRequestStatus Status,
    string? Answer,
    string? AnsweredBy,
    DateTime CreatedAt,
    DateTime? AnsweredAt,
    DateTime? ExpiresAt);

/// <summary>ask_human's input. <c>timeout_seconds</c> makes the request expire (the agent is told); null = never.</summary>
public sealed record AskHumanRequest(
    string? Question,
    HumanRequestKind? Kind = null,
    IReadOnlyList<string>? Options = null,
    long? TaskId = null,
    int? TimeoutSeconds = null);

/// <summary>
/// POST /human-requests/{id}/respond. <c>answer</c> is free text; for a choice it must be one of the options;
/// for an approval "approve"/"yes" or "reject"/"no" (or set <c>approved</c>).
/// </summary>
public sealed record RespondHumanRequest(string? Answer = null, bool? Approved = null, string? AnsweredBy = null);
