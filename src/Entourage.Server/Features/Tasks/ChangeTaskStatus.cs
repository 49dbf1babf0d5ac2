using Entourage.Client.Contracts;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Tasks;

/// <summary>
/// POST /tasks/{task_id}/status: one transition of the state machine, its timeline entry and its consequences
/// (dependents unblocked, retried tasks dispatched, waits completed) in one transaction. Asking for the current
/// state is a no-op, so a retried request is harmless.
/// </summary>
public static class ChangeTaskStatus
{
    public const int MaxReason = 4000;

    public static Task<TaskDto> ExecuteAsync(AppDbContext db, long taskId, ChangeTaskStatusRequest request, Actor actor, TimeProvider clock, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (request.Status is null) errors.Add("status", $"Required: the new status, one of: {EnumNames.Allowed<TaskState>()}.");
        var to = TaskRules.ParseEnum<TaskState>(errors, "status", request.Status);
        if (request.Reason is { Length: > MaxReason }) errors.Add("reason", $"At most {MaxReason} characters.");
        errors.ThrowIfAny();
        return ExecuteAsync(db, taskId, to!.Value, actor, request.Reason, clock, ct);
    }

    public static async Task<TaskDto> ExecuteAsync(AppDbContext db, long taskId, TaskState to, Actor actor, string? reason, TimeProvider clock, CancellationToken ct)
    {
        // A "done" whose effects are the plain ones, in one round trip on PostgreSQL; otherwise it changed nothing.
        if (to == TaskState.Done && await QuickDone.TryAsync(db, taskId, actor, reason, clock.GetUtcNow().UtcDateTime, ct) is { } quick) return quick;
        // A move to a terminal state reads its dependents with the task, in the same batch (TaskLoad).
        var (tx, task, settled, edges) = await TaskLoad.BeginForChangeAsync(db, taskId, to.IsTerminal(), clock.GetUtcNow().UtcDateTime, ct);
        var wasInProgress = task.Status == TaskState.InProgress;
        await using (tx)
        {
            // The change's time is read under the team's lock, after every change it could follow.
            var now = clock.GetUtcNow().UtcDateTime;
            if (await ChangeAsync(db, task, to, actor, reason, now, settled, ct))
            {
                // The change and its effects in one batch of plain statements (see TaskWrites), with the turn of the
                // first dependent it made ready claimed in it, so they commit together; on PostgreSQL the batch also
                // commits, unless other claims are still to be made. All published once committed (that rings the
                // dispatcher), the context's bookkeeping done after that.
                using var claims = ReadyDependentClaims.Prepare(db, settled?.Readied ?? [], now);
                var saved = await TaskWrites.SaveAsync(db, ct, claims.Tail, commit: !claims.MoreBeforeCommit);
                await claims.ClaimAsync(db, ct);
                if (!saved.Committed) await tx.CommitAsync(ct);
                TaskWrites.Publish(db, saved.Changes);
                claims.Start(db);
                // An engineer's next ready task waits while one is in progress (ClaimQueries.HeldSql): it may start now.
                if (wasInProgress && task.AssigneeId is not null) db.Changes().FreeWork();
                saved.Accept();
            }
        }
        // The row as this transaction left it (tracked, so current): no second read of it for the answer, nor of its
        // edges when the first batch read them.
        return edges is not null ? TaskViews.ToDto(task, edges) : (await TaskViews.ToDtosAsync(db, [task], ct))[0];
    }

    /// <summary>
    /// The transition itself inside the caller's transaction (review, merge queue and plan approval combine it with
    /// their own rows): validates, records the timeline entry and the DAG effects, saves (with whatever else the
    /// caller's context holds unsaved, as before). False when already there.
    /// </summary>
    public static async Task<bool> ApplyAsync(AppDbContext db, TaskItem task, TaskState to, Actor actor, string? reason, DateTime now, CancellationToken ct)
    {
        if (!await ChangeAsync(db, task, to, actor, reason, now, settled: null, ct)) return false;
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary><see cref="ApplyAsync"/> without its save: the caller saves.</summary>
    /// <param name="settled">What the task's read already read for <see cref="DagEffects"/>, or null.</param>
    private static async Task<bool> ChangeAsync(AppDbContext db, TaskItem task, TaskState to, Actor actor, string? reason, DateTime now, DagEffects.Settled? settled, CancellationToken ct)
    {
        var from = task.Status;
        if (from == to) return false;
        if (!TaskRules.CanMove(from, to))
        {
            var allowed = TaskRules.AllowedFrom(from);
            throw ApiProblem.Conflict(
                $"Task {task.Id} is {EnumNames.ToSnake(from)} and cannot move to {EnumNames.ToSnake(to)}. Allowed next states: {TaskRules.Describe(allowed)}.",
                new Dictionary<string, object?> { ["current_status"] = EnumNames.ToSnake(from), ["allowed"] = allowed.Select(s => EnumNames.ToSnake(s)).ToArray() });
        }
        await ChangeTaskStatusReviewGate.EnsureAllowedAsync(db, task, to, actor, ct);
        if (to == TaskState.InProgress) await EnsureDependenciesDoneAsync(db, task.Id, ct);

        task.Status = to;
        task.UpdatedAt = now;
        if (to == TaskState.InProgress) task.StartedAt ??= now;
        if (to.IsTerminal()) task.CompletedAt = now;
        if (to == TaskState.Failed) task.FailureReason = string.IsNullOrWhiteSpace(reason) ? "failed (no reason given)" : reason;
        if (to == TaskState.Todo)
        {
            task.CompletedAt = null;
            task.FailureReason = null;
        }
        TaskTimeline.Add(db, task.Id, task.TeamId, "status_changed", actor, now, from, to,
            string.IsNullOrWhiteSpace(reason) ? null : new { Reason = reason });
        // One save for the change and its effects: DagEffects reads nothing the unsaved change would alter, and
        // saves first itself where it must (settled waits, a parent's children).
        await DagEffects.AfterStatusChangeAsync(db, task, from, to, actor, now, settled, ct);
        return true;
    }

    /// <summary>The DAG rule: in_progress only when every dependency is done; the 409 says who blocks and what to do.</summary>
    private static async Task EnsureDependenciesDoneAsync(AppDbContext db, long taskId, CancellationToken ct)
    {
        var blockers = await (from d in db.TaskDependencies
                              join t in db.Tasks on d.DependsOnId equals t.Id
                              where d.TaskId == taskId && t.Status != TaskState.Done
                              orderby t.Id
                              select new { t.Id, t.Status }).ToListAsync(ct);
        if (blockers.Count == 0) return;
        var list = string.Join(", ", blockers.Select(b => $"task {b.Id} ({EnumNames.ToSnake(b.Status)})"));
        var failed = blockers.Where(b => TaskRules.IsFailedEnd(b.Status)).Select(b => b.Id).ToList();
        var advice = failed.Count > 0
            ? $"task {failed[0]} will never finish as it is: retry it (POST /api/v1/tasks/{failed[0]}/status {{\"status\": \"todo\"}}) or cancel this task"
            : blockers.Count == 1 ? "wait for it or pick another" : "wait for them or pick another";
        throw ApiProblem.Conflict($"task {taskId} is blocked by {list}; {advice}",
            new Dictionary<string, object?> { ["blocked_by"] = blockers.Select(b => b.Id).ToArray(), ["blocked_by_failed"] = failed.ToArray() });
    }
}
