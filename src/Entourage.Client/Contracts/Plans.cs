namespace Entourage.Client.Contracts;

/// <summary>
/// A manager's proposed plan (team setting require_plan_approval): its tasks, with their dependency edges, stay
/// <c>proposed</c> and are never dispatched until a person approves the plan.
/// </summary>
public sealed record PlanDto(
    long Id,
    Guid TeamId,
    long? ParentTaskId,
    Guid? ProposedById,
    string? ProposedByName,
    PlanState State,
    string? Feedback,
    string? DecidedBy,
    DateTime CreatedAt,
    DateTime? DecidedAt,
    IReadOnlyList<TaskDto> Tasks);

/// <summary>POST /plans/{id}/approve. <c>exclude_task_ids</c> drops tasks from the plan (they are cancelled).</summary>
public sealed record ApprovePlanRequest(IReadOnlyList<long>? ExcludeTaskIds = null, string? Comment = null, string? ApprovedBy = null);

/// <summary>POST /plans/{id}/reject: the feedback goes to the manager, who proposes a new plan.</summary>
public sealed record RejectPlanRequest(string? Feedback, string? RejectedBy = null);
