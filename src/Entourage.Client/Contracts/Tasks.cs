using System.Text.Json.Serialization;

namespace Entourage.Client.Contracts;

/// <summary>
/// A task of the DAG with its edges and readiness. <see cref="Ready"/>: todo, every dependency done, and assigned.
/// <see cref="BlockedBy"/>: dependencies not yet done. <see cref="BlockedByFailed"/>: dependencies that ended failed
/// or cancelled (the task stays todo until they are retried and reach done).
/// </summary>
public sealed record TaskDto(
    long Id,
    Guid TeamId,
    long? ParentId,
    string Title,
    string Description,
    TaskPriority Priority,
    TaskType TaskType,
    TaskState Status,
    Guid? AssigneeId,
    string? AssigneeName,
    IReadOnlyList<long> DependsOn,
    IReadOnlyList<long> Dependents,
    bool Ready,
    IReadOnlyList<long> BlockedBy,
    IReadOnlyList<long> BlockedByFailed,
    int Attempts,
    string? FailureReason,
    string? Branch,
    string? WorktreePath,
    Guid? CreatedByAgentId,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? StartedAt,
    DateTime? CompletedAt,
    long Version);

/// <summary>
/// POST /teams/{team_id}/tasks. Enum fields are strings (validated with the allowed values listed on error):
/// <c>priority</c> low|medium|high|critical (default medium), <c>task_type</c>
/// feature|bug|chore|test|docs|refactor (default feature). <c>assignee_id</c> is an agent's uuid (or its name)
/// in the same team. <c>depends_on</c> are ids of existing tasks of the same team (numbers or numeric strings).
/// </summary>
public sealed record CreateTaskRequest(
    string? Title,
    string? Description = null,
    [property: StringEnum(typeof(TaskPriority))] string? Priority = null,
    [property: StringEnum(typeof(TaskType))] string? TaskType = null,
    string? AssigneeId = null,
    IReadOnlyList<long>? DependsOn = null,
    long? ParentId = null);

/// <summary>One item of a batch: a <see cref="CreateTaskRequest"/> plus <c>depends_on_indices</c> (0-based, any item of the same batch).</summary>
public sealed record BatchTaskItem(
    string? Title,
    string? Description = null,
    [property: StringEnum(typeof(TaskPriority))] string? Priority = null,
    [property: StringEnum(typeof(TaskType))] string? TaskType = null,
    string? AssigneeId = null,
    IReadOnlyList<long>? DependsOn = null,
    IReadOnlyList<int>? DependsOnIndices = null,
    long? ParentId = null);

/// <summary>POST /teams/{team_id}/tasks/batch: all tasks are created in one transaction, or none.</summary>
public sealed record CreateTasksBatchRequest(IReadOnlyList<BatchTaskItem>? Tasks);

/// <summary>The created tasks, in the order of the request (so <c>tasks[i]</c> is item i).</summary>
public sealed record CreateTasksBatchResponse(IReadOnlyList<TaskDto> Tasks);

/// <summary>
/// PATCH /tasks/{task_id}: only the fields present change. <c>depends_on</c> replaces the whole list (only while
/// the task is todo); cycles, self-edges and other teams' tasks are rejected. <c>"parent_id": null</c> takes the task
/// out of its parent.
/// </summary>
public sealed record UpdateTaskRequest(
    string? Title = null,
    string? Description = null,
    [property: StringEnum(typeof(TaskPriority))] string? Priority = null,
    [property: StringEnum(typeof(TaskType))] string? TaskType = null,
    IReadOnlyList<long>? DependsOn = null)
{
    /// <summary>Absent: unchanged; a task id: the new parent; null: no parent (a property, not a constructor parameter, so its default is no one's value).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public Optional<long?> ParentId { get; init; }
}

/// <summary>POST /tasks/{task_id}/status: <c>status</c> todo|in_progress|in_review|done|cancelled|failed; <c>reason</c> is kept in the timeline (and as the failure reason).</summary>
public sealed record ChangeTaskStatusRequest([property: StringEnum(typeof(TaskState))] string? Status, string? Reason = null);

/// <summary>POST /tasks/{task_id}/assign: an agent's uuid (or name) of the task's team; null unassigns.</summary>
public sealed record AssignTaskRequest(string? AssigneeId);

/// <summary>
/// GET /teams/{team_id}/tasks filters (query string): status (comma-separated), assignee (uuid, name or "none"), parent
/// (id or "none"), ready; <c>after</c> (a task id) pages on: the tasks with larger ids. A page that is not the last
/// has a <c>Link: &lt;…&gt;; rel="next"</c> header.
/// </summary>
public sealed record TaskListQuery(string? Status = null, string? Assignee = null, string? Parent = null, bool? Ready = null, long? After = null);
