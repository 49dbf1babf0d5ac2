using System.Text.Json;
using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Dispatch;

/// <summary>
/// What turns do to tasks, inside the dispatcher's own transactions: a claimed ready task moves to in_progress,
/// every turn start/end and usage record is a task event, and work given up after max_attempts fails its task
/// with the reason.
/// </summary>
public static class TaskHooks
{
    public static async Task OnTurnStartedAsync(AppDbContext db, long taskId, Turn turn, IReadOnlyList<DispatchRequest> requests, DateTime now, CancellationToken ct)
    {
        var task = await db.Tasks.FirstOrDefaultAsync(t => t.Id == taskId, ct);
        if (task is null) return;
        if (task.Status == TaskState.Todo && requests.Any(r => r.Reason == DispatchReason.TaskReady && r.TaskId == taskId))
        {
            var from = task.Status;
            task.Status = TaskState.InProgress;
            task.StartedAt ??= now;
            task.UpdatedAt = now;
            task.Attempts = Math.Max(task.Attempts, turn.Attempt);
            AddEvent(db, task, "status_changed", now, turn.AgentId, from, TaskState.InProgress, new { turn_id = turn.Id, reason = "claimed by its agent's turn" });
        }
        AddEvent(db, task, "turn_started", now, turn.AgentId, null, null, new
        {
            turn_id = turn.Id,
            attempt = turn.Attempt,
            node = turn.Node,
            reasons = requests.Select(r => EnumNames.ToSnake(r.Reason)).Distinct().ToArray(),
            request_ids = requests.Select(r => r.Id).ToArray(),
        });
    }

    /// <summary>Fails a task whose work was given up, unless it already ended.</summary>
    public static async Task FailAsync(AppDbContext db, long taskId, Guid? agentId, string reason, DateTime now, CancellationToken ct)
    {
        var task = await db.Tasks.FirstOrDefaultAsync(t => t.Id == taskId, ct);
        if (task is null || task.Status.IsTerminal()) return;
        var from = task.Status;
        task.Status = TaskState.Failed;
        task.FailureReason = reason;
        task.CompletedAt = now;
        task.UpdatedAt = now;
        AddEvent(db, task, "status_changed", now, null, from, TaskState.Failed, new { reason });
    }

    public static void AddEvent(AppDbContext db, TaskItem task, string kind, DateTime now, Guid? agentId, TaskState? from, TaskState? to, object? data) =>
        db.TaskEvents.Add(new TaskEvent
        {
            TaskId = task.Id,
            TeamId = task.TeamId,
            Kind = kind,
            ActorType = agentId is null ? ActorType.System : ActorType.Agent,
            ActorId = agentId?.ToString() ?? "dispatcher",
            ActorName = agentId is null ? "dispatcher" : null,
            FromStatus = from is null ? null : EnumNames.ToSnake(from.Value),
            ToStatus = to is null ? null : EnumNames.ToSnake(to.Value),
            DataJson = data is null ? null : JsonSerializer.Serialize(data, Hosting.JsonDefaults.Options),
            CreatedAt = now,
        });

    public static async Task AddEventAsync(AppDbContext db, long taskId, string kind, DateTime now, Guid? agentId, object? data, CancellationToken ct)
    {
        var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == taskId, ct);
        if (task is not null) AddEvent(db, task, kind, now, agentId, null, null, data);
    }
}
