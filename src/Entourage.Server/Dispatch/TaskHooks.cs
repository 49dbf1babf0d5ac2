using Entourage.Client.Contracts;
using Entourage.Server.Features;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Dispatch;

/// <summary>
/// What turns do to tasks, inside the dispatcher's own transactions (opened with <see cref="TaskTransaction"/>,
/// so they serialise with the team's other DAG writers on PostgreSQL): a claimed ready task moves to
/// in_progress, every turn start/end and usage record is a task event, and work given up after max_attempts
/// fails its task with the reason, with the DAG's consequences (dependents blocked, waits settled).
/// </summary>
public static class TaskHooks
{
    public static readonly Actor Dispatcher = Actor.System("dispatcher");

    public static async Task OnTurnStartedAsync(AppDbContext db, long taskId, Turn turn, IReadOnlyList<DispatchRequest> requests, DateTime now, CancellationToken ct)
    {
        // The task (tracked) and whether a dependency is unfinished, in one query: this is on every claim's path.
        var row = await db.Tasks.Where(t => t.Id == taskId).Select(t => new
        {
            Task = t,
            Blocked = (from d in db.TaskDependencies join x in db.Tasks on d.DependsOnId equals x.Id
                       where d.TaskId == t.Id && x.Status != TaskState.Done select d).Any(),
        }).FirstOrDefaultAsync(ct);
        if (row is null) return;
        var task = row.Task;
        if (task.Status == TaskState.Todo && requests.Any(r => r.Reason == DispatchReason.TaskReady && r.TaskId == taskId) &&
            task.AssigneeId == turn.AgentId && !row.Blocked)
        {
            task.Status = TaskState.InProgress;
            task.StartedAt ??= now;
            task.UpdatedAt = now;
            task.Attempts = Math.Max(task.Attempts, turn.Attempt);
            TaskTimeline.Add(db, task.Id, task.TeamId, "status_changed", Dispatcher, now, TaskState.Todo, TaskState.InProgress,
                new { turn_id = turn.Id, agent_id = turn.AgentId, reason = "its agent's turn started" });
        }
        TaskTimeline.Add(db, task.Id, task.TeamId, "turn_started", Dispatcher, now, data: new
        {
            turn_id = turn.Id,
            agent_id = turn.AgentId,
            attempt = turn.Attempt,
            node = turn.Node,
            reasons = requests.Select(r => EnumNames.ToSnake(r.Reason)).Distinct().ToArray(),
            request_ids = requests.Select(r => r.Id).ToArray(),
        });
    }

    /// <summary>Fails a task whose work was given up (unless it already ended); the caller saves.</summary>
    public static async Task FailAsync(AppDbContext db, long taskId, string reason, DateTime now, CancellationToken ct)
    {
        var task = await db.Tasks.FirstOrDefaultAsync(t => t.Id == taskId, ct);
        if (task is null || task.Status.IsTerminal()) return;
        var from = task.Status;
        task.Status = TaskState.Failed;
        task.FailureReason = reason;
        task.CompletedAt = now;
        task.UpdatedAt = now;
        TaskTimeline.Add(db, task.Id, task.TeamId, "status_changed", Dispatcher, now, from, TaskState.Failed, new { reason });
        await db.SaveChangesAsync(ct);
        await DagEffects.AfterStatusChangeAsync(db, task, from, TaskState.Failed, Dispatcher, now, ct);
    }

    public static async Task AddEventAsync(AppDbContext db, long taskId, string kind, DateTime now, object? data, CancellationToken ct)
    {
        var teamId = await db.Tasks.Where(t => t.Id == taskId).Select(t => (Guid?)t.TeamId).FirstOrDefaultAsync(ct);
        if (teamId is { } team) TaskTimeline.Add(db, taskId, team, kind, Dispatcher, now, data: data);
    }
}
