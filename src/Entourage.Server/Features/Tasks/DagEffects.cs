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
public static partial class DagEffects
{
    private static readonly PerModel<Func<AppDbContext, long, CancellationToken, Task<bool>>> HasUnfinishedDependency = new(() =>
        EF.CompileAsyncQuery((AppDbContext db, long taskId, CancellationToken ct) =>
            (from d in db.TaskDependencies
             join t in db.Tasks on d.DependsOnId equals t.Id
             where d.TaskId == taskId && t.Status != TaskState.Done
             select d).Any()));

    private static readonly PerModel<Func<AppDbContext, Guid, long, CancellationToken, Task<bool>>> ReadyPending = new(() =>
        EF.CompileAsyncQuery((AppDbContext db, Guid agentId, long taskId, CancellationToken ct) =>
            db.DispatchRequests.Any(r => r.AgentId == agentId && r.TaskId == taskId &&
                r.Reason == DispatchReason.TaskReady && r.State == DispatchState.Pending)));

    /// <summary>The team's open waits, tracked (settling one marks it completed).</summary>
    private static readonly PerModel<Func<AppDbContext, Guid, IAsyncEnumerable<TaskWait>>> OpenWaits = new(() =>
        EF.CompileAsyncQuery((AppDbContext db, Guid teamId) => db.TaskWaits.Where(w => w.TeamId == teamId && w.CompletedAt == null)));

    /// <summary>
    /// Dispatches a todo task whose dependencies are all done: to its assignee, or (when
    /// <paramref name="toManagerIfUnassigned"/>) to the team's manager so it assigns it.
    /// </summary>
    public static async Task<bool> EnqueueIfReadyAsync(AppDbContext db, TaskItem task, Actor actor, DateTime now, bool toManagerIfUnassigned, CancellationToken ct)
    {
        if (task.Status != TaskState.Todo) return false;
        if (await HasUnfinishedDependency.For(db)(db, task.Id, ct)) return false;
        return await EnqueueUnblockedAsync(db, task.Id, task.TeamId, task.AssigneeId, actor, now, toManagerIfUnassigned, ct);
    }

    /// <summary>
    /// <see cref="EnqueueIfReadyAsync"/> for a todo task whose dependencies the caller has just found all done in
    /// this transaction (a dependency finishing): the same query twice would only lengthen the path from "task
    /// done" to the dependent's turn.
    /// </summary>
    private static async Task<bool> EnqueueUnblockedAsync(AppDbContext db, long taskId, Guid teamId, Guid? assigneeId, Actor actor, DateTime now, bool toManagerIfUnassigned, CancellationToken ct)
    {
        var target = assigneeId;
        if (target is null && toManagerIfUnassigned)
        {
            var manager = await AgentLookup.ManagerOfAsync(db, teamId, ct);
            // The manager creating an unassigned task needs no wake-up to learn about it.
            if (manager is not null && manager.Id != actor.AgentId) target = manager.Id;
        }
        if (target is null) return false;

        var agentId = target.Value;
        if (await ReadyPending.For(db)(db, agentId, taskId, ct)) return false;
        DispatchRequests.Enqueue(db, teamId, agentId, DispatchReason.TaskReady, now, taskId, taskId.ToString());
        return true;
    }

    /// <summary>
    /// Effects of a status change <paramref name="from"/> → <paramref name="to"/>, saved or not yet (its reads do
    /// not depend on the changed row; where a step must see it, it saves first); the caller saves the effects.
    /// </summary>
    public static Task AfterStatusChangeAsync(AppDbContext db, TaskItem task, TaskState from, TaskState to, Actor actor, DateTime now, CancellationToken ct) =>
        AfterStatusChangeAsync(db, task, from, to, actor, now, settled: null, ct);

    /// <inheritdoc cref="AfterStatusChangeAsync(AppDbContext, TaskItem, TaskState, TaskState, Actor, DateTime, CancellationToken)"/>
    /// <param name="settled">What <see cref="SettledSql"/> already read in this transaction (the caller batched it with its own read), or null.</param>
    internal static async Task AfterStatusChangeAsync(AppDbContext db, TaskItem task, TaskState from, TaskState to, Actor actor, DateTime now, Settled? settled, CancellationToken ct)
    {
        if (to == TaskState.Todo) await EnqueueIfReadyAsync(db, task, actor, now, toManagerIfUnassigned: false, ct);

        if (!to.IsTerminal()) return;
        var reads = settled ?? await SettledReadsAsync(db, task.Id, now, ct);
        foreach (var dep in reads.Dependents)
        {
            if (to == TaskState.Done)
            {
                if (dep.OtherUnfinished) continue;
                TaskTimeline.Add(db, dep.Id, dep.TeamId, "unblocked", actor, now, data: new { Dependency = task.Id });
                if (dep.AssigneeId is { } assignee)
                {
                    if (!dep.ReadyPending)
                    {
                        DispatchRequests.Enqueue(db, dep.TeamId, assignee, DispatchReason.TaskReady, now, dep.Id, dep.Id.ToString());
                        // This node's dispatcher may claim the dependent's turn without its candidates query once
                        // this commits (said now, before the commit's ring; see Doorbell.Expect).
                        if (dep.AssigneeLaunch is { } launch)
                        {
                            db.Changes().ExpectWork(assignee, dep.TeamId, launch);
                            settled?.Readied.Add(dep);
                        }
                    }
                }
                else await EnqueueUnblockedAsync(db, dep.Id, dep.TeamId, null, actor, now, toManagerIfUnassigned: true, ct);
            }
            else
            {
                TaskTimeline.Add(db, dep.Id, dep.TeamId, "dependency_failed", actor, now,
                    data: new { Dependency = task.Id, Status = EnumNames.ToSnake(to) });
            }
        }

        // Each rule saves the change first, then reads the store: three to five round trips, and the save takes the
        // change's writes out of its batch (TaskWrites), so the dependent's claim and the commit become two more. The
        // settled reads tell when neither can apply, which in a feature is nearly always: the manager waits on its
        // sub-tasks while some still run, and a sub-task is rarely the feature's last. PostgreSQL, p50: a sub-task's
        // done to its dependent's turn went 8.3 -> 4.9 ms, as fast as a task without a parent or a waiting manager.
        if (reads.MaySettleAWait(task.Id, to)) await CompleteSettledWaitsAsync(db, task.TeamId, now, ct);
        if (task.ParentId is not null && !reads.OtherChildOpen)
        {
            // The parent's rule reads its children's states from the store, this one's included.
            await db.SaveChangesAsync(ct);
            await Plans.ParentTasks.AfterChildSettledAsync(db, task, to, actor, now, ct);
        }
    }

    /// <summary>
    /// Wakes every agent whose TaskWait has settled (all tasks terminal or never able to start), once: the wait is
    /// marked completed with the wait_complete dispatch request in the same transaction.
    /// </summary>
    public static async Task CompleteSettledWaitsAsync(AppDbContext db, Guid teamId, DateTime now, CancellationToken ct)
    {
        var open = new List<TaskWait>();
        await foreach (var w in OpenWaits.For(db)(db, teamId).WithCancellation(ct)) open.Add(w);
        if (open.Count == 0) return;
        // Whether a wait settled depends on the states in the store, the caller's unsaved change included.
        await db.SaveChangesAsync(ct);
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
