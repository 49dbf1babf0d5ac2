using System.ComponentModel;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Events;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Storage;
using ModelContextProtocol.Server;

namespace Entourage.Server.Mcp.Tools;

/// <summary>The task DAG through MCP: the same use cases as the REST API, acting as the calling agent, inside its team.</summary>
[McpServerToolType]
public sealed class TaskTools
{
    [McpServerTool(Name = "create_task")]
    [Description("Creates one task in your team. For several related tasks use create_tasks_batch instead (atomic, " +
                 "and it can wire dependencies between the new tasks). The task is dispatched to its assignee as soon " +
                 "as every dependency is done. Returns the task with its id.")]
    public static Task<TaskDto> CreateTask(McpCaller caller, AppDbContext db, TimeProvider clock,
        [Description("Short imperative title of one small, reviewable change, e.g. \"Create notifications table migration\".")] string title,
        [Description("What to do and how to know it is done: acceptance criteria, files, interfaces others rely on.")] string? description = null,
        [Description("low, medium (default), high or critical.")] string? priority = null,
        [Description("feature (default), bug, chore, test, docs or refactor.")] string? task_type = null,
        [Description("Id (or name) of the agent of your team who should do it; see list_team_agents. Omit to assign later.")] string? assignee_id = null,
        [Description("Ids of existing tasks of your team that must be done first.")] long[]? depends_on = null,
        [Description("Id of the feature task this is part of.")] long? parent_id = null,
        CancellationToken ct = default) =>
        Features.Tasks.CreateTask.ExecuteAsync(db, caller.TeamId,
            new CreateTaskRequest(title, description, priority, task_type, assignee_id, depends_on, parent_id), caller.Actor(), clock, ct);

    [McpServerTool(Name = "create_tasks_batch")]
    [Description("Creates several tasks in one atomic step: all or none (if any item is invalid nothing is created and " +
                 "the error names every bad item as tasks[i].field). Each item: title (required), description, priority " +
                 "(low|medium|high|critical), task_type (feature|bug|chore|test|docs|refactor), assignee_id (agent id or " +
                 "name from list_team_agents), depends_on (ids of existing tasks), depends_on_indices (0-based positions of " +
                 "other items in this same batch that must be done first), parent_id (the feature task). Returns the " +
                 "created tasks in request order, so tasks[i].id is the id of item i; pass those ids to wait_for_task_completion.")]
    public static Task<CreateTasksBatchResponse> CreateTasksBatch(McpCaller caller, AppDbContext db, TimeProvider clock,
        [Description("The tasks to create, in order; dependencies between them by depends_on_indices.")] List<BatchTaskItem> tasks,
        CancellationToken ct = default) =>
        Features.Tasks.CreateTasksBatch.ExecuteAsync(db, caller.TeamId, new CreateTasksBatchRequest(tasks), caller.Actor(), clock, ct);

    [McpServerTool(Name = "list_tasks", ReadOnly = true, Idempotent = true)]
    [Description("Lists your team's tasks (oldest first) with status, assignee, dependencies, ready (can start now) and " +
                 "blocked_by / blocked_by_failed. Filter to keep the answer short.")]
    public static Task<List<TaskDto>> ListTasks(McpCaller caller, AppDbContext db,
        [Description("Comma-separated statuses: todo, in_progress, in_review, done, cancelled, failed.")] string? status = null,
        [Description("Agent id or name, or \"none\" for unassigned tasks.")] string? assignee = null,
        [Description("Parent task id, or \"none\" for top-level tasks.")] string? parent = null,
        [Description("true: only tasks that can start now; false: only those that cannot.")] bool? ready = null,
        [Description("At most this many tasks (default 200, max 1000).")] int? limit = null,
        [Description("Only tasks with a larger id: the last id of the previous answer, for the next page.")] long? after = null,
        CancellationToken ct = default) =>
        Features.Tasks.ListTasks.ExecuteAsync(db, caller.TeamId, new TaskListQuery(status, assignee, parent, ready, after), ct, limit ?? 200);

    [McpServerTool(Name = "get_task", ReadOnly = true, Idempotent = true)]
    [Description("One task of your team: description, status, assignee, depends_on, dependents, blocked_by, branch and worktree.")]
    public static async Task<TaskDto> GetTask(McpCaller caller, AppDbContext db,
        [Description("The task id.")] long task_id, CancellationToken ct = default)
    {
        await caller.EnsureTaskInTeamAsync(db, task_id, ct);
        return await TaskViews.GetAsync(db, task_id, ct);
    }

    [McpServerTool(Name = "update_task_status")]
    [Description("Moves a task of your team through its states: todo → in_progress (only when every dependency is done) → " +
                 "in_review → done; failed (give a reason: what blocked you) and cancelled from any open state; failed → todo " +
                 "retries. Prefer request_review over setting in_review yourself. When the team requires review (the default), " +
                 "done is not yours to set: request_review, and the task is done once a reviewer approves and the merge lands it. " +
                 "If the move is not allowed the error " +
                 "lists the allowed next states, or which tasks block this one.")]
    public static async Task<TaskDto> UpdateTaskStatus(McpCaller caller, AppDbContext db, TimeProvider clock,
        [Description("The task id.")] long task_id,
        [Description("todo, in_progress, in_review, done, cancelled or failed.")] string status,
        [Description("Why (kept in the timeline; required in spirit for failed and cancelled).")] string? reason = null,
        CancellationToken ct = default)
    {
        await caller.EnsureTaskInTeamAsync(db, task_id, ct);
        return await ChangeTaskStatus.ExecuteAsync(db, task_id, new ChangeTaskStatusRequest(status, reason), caller.Actor(), clock, ct);
    }

    [McpServerTool(Name = "assign_task")]
    [Description("Assigns a task of your team to an agent of your team (id or name; see list_team_agents for who is idle), " +
                 "or unassigns it with an empty assignee_id. A todo task whose dependencies are done starts right away.")]
    public static async Task<TaskDto> AssignTask(McpCaller caller, AppDbContext db, TimeProvider clock,
        [Description("The task id.")] long task_id,
        [Description("Agent id or name; empty to unassign.")] string? assignee_id,
        CancellationToken ct = default)
    {
        await caller.EnsureTaskInTeamAsync(db, task_id, ct);
        return await Features.Tasks.AssignTask.ExecuteAsync(db, task_id, string.IsNullOrWhiteSpace(assignee_id) ? null : assignee_id, caller.Actor(), clock, ct);
    }

    [McpServerTool(Name = "get_task_events", ReadOnly = true, Idempotent = true)]
    [Description("A task's timeline in order: created, assigned, status changes (from → to), messages, turns, reviews… " +
                 "each with actor and time. Use it to see why a task failed or what happened while you were away.")]
    public static async Task<List<TaskEventDto>> GetTaskEvents(McpCaller caller, AppDbContext db,
        [Description("The task id.")] long task_id,
        [Description("Only events after this event id (to read just what is new).")] long? after = null,
        [Description("At most this many events (default 200).")] int? limit = null,
        CancellationToken ct = default)
    {
        await caller.EnsureTaskInTeamAsync(db, task_id, ct);
        return await TaskEventsEndpoint.ListAsync(db, task_id, after, limit ?? 200, ct);
    }
}
