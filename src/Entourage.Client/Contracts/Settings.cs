namespace Entourage.Client.Contracts;

/// <summary>
/// GET/PATCH /settings/teams/{team_id}. <c>daily_cost_limit_usd</c> (UTC day) and <c>max_concurrent_agents</c>
/// are enforced by the dispatcher; null means unlimited.
/// </summary>
public sealed record TeamSettingsDto(
    Guid TeamId,
    decimal? DailyCostLimitUsd,
    int? MaxConcurrentAgents,
    bool RequireReview,
    string MergeStrategy,
    string? CheckCommand,
    string? SetupCommand,
    bool RequirePlanApproval,
    string? ManagerPrompt,
    string? EngineerPrompt,
    IReadOnlyList<string> RunnerLabels,
    DateTime UpdatedAt);

/// <summary>
/// PATCH /settings/teams/{team_id}: only the fields present change; an explicit null clears a limit (unlimited).
/// </summary>
public sealed record UpdateTeamSettingsRequest(
    decimal? DailyCostLimitUsd = null,
    int? MaxConcurrentAgents = null,
    bool? RequireReview = null,
    string? MergeStrategy = null,
    string? CheckCommand = null,
    string? SetupCommand = null,
    bool? RequirePlanApproval = null,
    string? ManagerPrompt = null,
    string? EngineerPrompt = null,
    IReadOnlyList<string?>? RunnerLabels = null);
