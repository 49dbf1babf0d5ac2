using System.Text.Json;
using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Features.Agents;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Tasks;

/// <summary>
/// What a DAG change causes, in the same transaction as the change (call after saving the change itself, so
/// queries see it): dispatch requests for tasks that became ready, timeline entries on dependents, and the
/// wake-up of managers whose awaited tasks all settled.
/// </summary>
public static class DagEffects
{
    /// <summary>
    /// Dispatches a todo task whose dependencies are all done: to its assignee, or (when
    /// <paramref name="toManagerIfUnassigned"/>) to the team's manager so it assigns it.
    /// </summary>
    public static async Task<bool> EnqueueIfReadyAsync(AppDbContext db, TaskItem task, Actor actor, DateTime now, bool toManagerIfUnassigned, CancellationToken ct)
    {
        if (task.Status != TaskState.Todo) return false;
        if (await HasUnfinishedDependencyAsync(db, task.Id, ct)) return false;
        return await EnqueueUnblockedAsync(db, task, actor, now, toManagerIfUnassigned, ct);
    }

    /// <summary>
    /// <see cref="EnqueueIfReadyAsync"/> for a todo task whose dependencies the caller has just found all done in
    /// this transaction (a dependency finishing): the same query twice would only lengthen the path from "task
    /// done" to the dependent's turn.
    /// </summary>
    private static async Task<bool> EnqueueUnblockedAsync(AppDbContext db, TaskItem task, Actor actor, DateTime now, bool toManagerIfUnassigned, CancellationToken ct)
    {
        var target = task.AssigneeId;
        if (target is null && toManagerIfUnassigned)
        {
            var manager = await AgentLookup.ManagerOfAsync(db, task.TeamId, ct);
            // The manager creating an unassigned task needs no wake-up to learn about it.
            if (manager is not null && manager.Id != actor.AgentId) target = manager.Id;
        }
        if (target is null) return false;

        var agentId = target.Value;
        var already = await db.DispatchRequests.AnyAsync(r => r.AgentId == agentId && r.TaskId == task.Id &&
            r.Reason == DispatchReason.TaskReady && r.State == DispatchState.Pending, ct);
        if (already) return false;
        DispatchRequests.Enqueue(db, task.TeamId, agentId, DispatchReason.TaskReady, now, task.Id, task.Id.ToString());
        return true;
    }

    /// <summary>Effects of a saved status change <paramref name="from"/> → <paramref name="to"/>; the caller saves them.</summary>
    public static async Task AfterStatusChangeAsync(AppDbContext db, TaskItem task, TaskState from, TaskState to, Actor actor, DateTime now, CancellationToken ct)
    {
        if (to == TaskState.Todo) await EnqueueIfReadyAsync(db, task, actor, now, toManagerIfUnassigned: false, ct);

        if (to == TaskState.Done || TaskRules.IsFailedEnd(to))
        {
            var dependents = await (from d in db.TaskDependencies
                                    join t in db.Tasks on d.TaskId equals t.Id
                                    where d.DependsOnId == task.Id && t.Status == TaskState.Todo
                                    select t).ToListAsync(ct);
            foreach (var dep in dependents)
            {
                if (to == TaskState.Done)
                {
                    if (await HasUnfinishedDependencyAsync(db, dep.Id, ct)) continue;
                    TaskTimeline.Add(db, dep.Id, dep.TeamId, "unblocked", actor, now, data: new { Dependency = task.Id });
                    await EnqueueUnblockedAsync(db, dep, actor, now, toManagerIfUnassigned: true, ct);
                }
                else
                {
                    TaskTimeline.Add(db, dep.Id, dep.TeamId, "dependency_failed", actor, now,
                        data: new { Dependency = task.Id, Status = EnumNames.ToSnake(to) });
                }
            }
        }

        if (to.IsTerminal()) await RetireReadyWakeUpsAsync(db, task.Id, now, ct);
        if (to.IsTerminal()) await CompleteSettledWaitsAsync(db, task.TeamId, now, ct);
        if (to.IsTerminal()) await Plans.ParentTasks.AfterChildSettledAsync(db, task, to, actor, now, ct);
    }

    /// <summary>
    /// A finished task is no longer ready: a task_ready wake-up still pending for it would start a turn with nothing
    /// to do. It happens when a task is assigned to the agent whose running turn already works on it (a manager woken
    /// to assign a new feature, then given it), and that turn sees the task through. A retried task is enqueued anew.
    /// </summary>
    private static Task RetireReadyWakeUpsAsync(AppDbContext db, long taskId, DateTime now, CancellationToken ct) =>
        // One conditional statement in the caller's transaction: a request a dispatcher claims meanwhile is left alone.
        db.DispatchRequests
            .Where(r => r.TaskId == taskId && r.Reason == DispatchReason.TaskReady && r.State == DispatchState.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.State, DispatchState.Done).SetProperty(r => r.UpdatedAt, now), ct);

    private static Task<bool> HasUnfinishedDependencyAsync(AppDbContext db, long taskId, CancellationToken ct) =>
        (from d in db.TaskDependencies
         join t in db.Tasks on d.DependsOnId equals t.Id
         where d.TaskId == taskId && t.Status != TaskState.Done
         select d).AnyAsync(ct);

    /// <summary>
    /// Wakes every agent whose TaskWait has settled (all tasks terminal or never able to start), once: the wait is
    /// marked completed with the wait_complete dispatch request in the same transaction.
    /// </summary>
    public static async Task CompleteSettledWaitsAsync(AppDbContext db, Guid teamId, DateTime now, CancellationToken ct)
    {
        var open = await db.TaskWaits.Where(w => w.TeamId == teamId && w.CompletedAt == null).ToListAsync(ct);
        foreach (var wait in open)
        {
            var ids = ParseIds(wait.TaskIdsJson);
            var states = await WaitStates.ComputeAsync(db, ids, ct);
            if (states.Count < ids.Count || !WaitStates.Settled(states)) continue;
            wait.CompletedAt = now;
            DispatchRequests.Enqueue(db, wait.TeamId, wait.AgentId, DispatchReason.WaitComplete, now, reference: wait.Id.ToString());
        }
    }

    /// <summary>
    /// True when a wait of <paramref name="agentId"/> settled in this unit of work (<see cref="CompleteSettledWaitsAsync"/>,
    /// same <paramref name="now"/>) and covers every one of <paramref name="taskIds"/>. That wait already tells the agent
    /// about those tasks: in the tool call's result if the agent is still waiting in its turn (the call then retires
    /// the wait's wake-up), or by the wait's own wait_complete wake-up if its call was cut off. So a notice about those
    /// tasks (a parent's summary request) must not add a wake-up of its own: that was a second, pointless manager turn.
    /// </summary>
    public static bool SettledWaitCovers(AppDbContext db, Guid agentId, IReadOnlyCollection<long> taskIds, DateTime now) =>
        db.TaskWaits.Local.Any(w => w.AgentId == agentId && w.CompletedAt == now && ParseIds(w.TaskIdsJson) is var ids && taskIds.All(ids.Contains));

    public static List<long> ParseIds(string json)
    {
        try { return JsonSerializer.Deserialize<List<long>>(json) ?? []; }
        catch (JsonException) { return []; }
    }
}
