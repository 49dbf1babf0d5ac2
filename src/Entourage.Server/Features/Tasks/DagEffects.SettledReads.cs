using System.Data.Common;
using Entourage.Client.Contracts;
using Entourage.Server.Storage;

namespace Entourage.Server.Features.Tasks;

/// <summary>What a task reaching a terminal state reads (and retires) in the store for its effects, in one round trip.</summary>
public static partial class DagEffects
{
    /// <summary>A todo dependent of a task that just settled, with what the "done" path needs to know about it.</summary>
    /// <param name="AssigneeLaunch">What the assignee runs as, for this node's dispatcher (<see cref="Dispatch.Doorbell.Expect"/>).</param>
    internal sealed record Dependent(long Id, Guid TeamId, Guid? AssigneeId, bool OtherUnfinished, bool ReadyPending, Dispatch.AgentLaunch? AssigneeLaunch);

    /// <summary>An open wait of the team: who waits, on which tasks (as stored).</summary>
    internal sealed record OpenWait(long Id, string TaskIdsJson);

    /// <summary>What a task reaching a terminal state reads (and retires) in the store; see <see cref="SettledSql"/>.</summary>
    /// <param name="Waits">The team's open waits.</param>
    /// <param name="Running">The team's other tasks in progress or in review, read only when it has open waits.</param>
    /// <param name="OtherChildOpen">The task has a parent, and another child of it is not terminal.</param>
    internal sealed record Settled(List<Dependent> Dependents, List<OpenWait> Waits, HashSet<long> Running, bool OtherChildOpen)
    {
        /// <summary>
        /// The dependents the change made ready for an assignee whose launch it read, as the change applies: their
        /// turns may be claimed in the change's own transaction (<see cref="ReadyDependentClaims"/>).
        /// </summary>
        public List<Dependent> Readied { get; } = [];

        /// <summary>
        /// Whether the change of <paramref name="taskId"/> to <paramref name="to"/> might settle one of the team's open
        /// waits (<see cref="WaitStates.Settled"/>: every task terminal or never able to start). A wait stays open while
        /// one of its other tasks is in progress or in review, or is a dependent this change makes ready (todo with
        /// every dependency done: it can start). Only a wait with none of those is worth the full check
        /// (<see cref="CompleteSettledWaitsAsync"/>).
        /// </summary>
        public bool MaySettleAWait(long taskId, TaskState to)
        {
            if (Waits.Count == 0) return false;
            var busy = new HashSet<long>(Running);
            if (to == TaskState.Done) busy.UnionWith(Dependents.Where(d => !d.OtherUnfinished).Select(d => d.Id));
            return Waits.Any(w => !ParseIds(w.TaskIdsJson).Any(id => id != taskId && busy.Contains(id)));
        }
    }

    /// <summary>
    /// What a task reaching a terminal state (done, failed, cancelled) does and reads in the store, in one round trip
    /// (was three EF operations, each a round trip on PostgreSQL):
    /// <list type="bullet">
    /// <item>It is no longer ready: a task_ready wake-up still pending for it would start a turn with nothing to do.
    /// That happens when a task is assigned to the agent whose running turn already works on it (a manager woken to
    /// assign a new feature, then given it), and that turn sees the task through; a retried task is enqueued anew.
    /// One conditional statement: a request a dispatcher claims meanwhile is left alone. Like the EF bulk update it
    /// replaced, it publishes no change event: a retired request wakes nobody.</item>
    /// <item>Its todo dependents, each with whether another of its dependencies is unfinished (this task not
    /// counted: it is terminal, saved or not, and only "done" unblocks) and whether its assignee already has a
    /// pending task_ready wake-up for it.</item>
    /// <item>The team's open waits, and when it has any, its other tasks in progress or in review: enough to tell
    /// that no wait settles (<see cref="Settled.MaySettleAWait"/>) without the waits' own reads.</item>
    /// <item>Whether another child of the task's parent is still open: then the parent's rule has nothing to do.</item>
    /// </list>
    /// </summary>
    /// <remarks>
    /// Nothing in it depends on the task's own row, so a caller may batch it with the read that starts its
    /// transaction (<see cref="TaskLoad"/>): one round trip fewer on every status change to a terminal state. If that
    /// change then turns out invalid or a no-op, the transaction is rolled back and the retirement with it.
    /// </remarks>
    internal const string SettledSql = """
        UPDATE dispatch_requests SET state = @settled_retired, updated_at = @settled_now WHERE task_id = @settled_task AND reason = @settled_ready AND state = @settled_pending;
        SELECT t.id, t.team_id, t.assignee_id,
            EXISTS (SELECT 1 FROM task_dependencies d2 JOIN tasks x ON x.id = d2.depends_on_id
                    WHERE d2.task_id = t.id AND x.id <> @settled_task AND x.status <> @settled_done),
            EXISTS (SELECT 1 FROM dispatch_requests r
                    WHERE r.agent_id = t.assignee_id AND r.task_id = t.id AND r.reason = @settled_ready AND r.state = @settled_pending),
            a.adapter, a.config_json
        FROM task_dependencies d JOIN tasks t ON t.id = d.task_id LEFT JOIN agents a ON a.id = t.assignee_id
        WHERE d.depends_on_id = @settled_task AND t.status = @settled_todo;
        WITH k AS (SELECT team_id, parent_id FROM tasks WHERE id = @settled_task),
             w AS (SELECT tw.id, tw.task_ids_json FROM task_waits tw WHERE tw.team_id = (SELECT team_id FROM k) AND tw.completed_at IS NULL)
        SELECT 0, w.id, w.task_ids_json FROM w
        UNION ALL
        SELECT 1, x.id, NULL FROM tasks x
        WHERE x.team_id = (SELECT team_id FROM k) AND x.status IN (@settled_in_progress, @settled_in_review) AND x.id <> @settled_task
          AND EXISTS (SELECT 1 FROM w)
        UNION ALL
        SELECT 2, 0, NULL
        WHERE EXISTS (SELECT 1 FROM tasks c
                      WHERE c.parent_id = (SELECT parent_id FROM k) AND c.id <> @settled_task
                        AND c.status NOT IN (@settled_done, @settled_failed, @settled_cancelled));
        """;

    /// <summary>The parameters of <see cref="SettledSql"/> (prefixed, so it can share a batch with the caller's own).</summary>
    internal static DbCommand BindSettled(this DbCommand cmd, long taskId, DateTime now) => cmd
        .With("settled_retired", DispatchState.Done)
        .With("settled_now", now)
        .With("settled_task", taskId)
        .With("settled_ready", DispatchReason.TaskReady)
        .With("settled_pending", DispatchState.Pending)
        .With("settled_done", TaskState.Done)
        .With("settled_failed", TaskState.Failed)
        .With("settled_cancelled", TaskState.Cancelled)
        .With("settled_todo", TaskState.Todo)
        .With("settled_in_progress", TaskState.InProgress)
        .With("settled_in_review", TaskState.InReview);

    /// <summary>Reads <see cref="SettledSql"/>'s results, the reader positioned on the first (the dependents).</summary>
    internal static async Task<Settled> ReadSettledAsync(DbDataReader r, CancellationToken ct)
    {
        var dependents = new List<Dependent>();
        while (await r.ReadAsync(ct))
            dependents.Add(new Dependent(r.GetInt64(0), r.Guid(1), r.NullableGuid(2), r.GetBoolean(3), r.GetBoolean(4),
                r.IsDBNull(5) || r.IsDBNull(6) ? null : new Dispatch.AgentLaunch(r.GetString(5), r.GetString(6))));
        if (!await r.NextResultAsync(ct)) throw new InvalidOperationException("The settled reads returned no result for the waits, running tasks and parent.");
        // One statement for the three reads, told apart by their first column (three statements cost "done ->
        // dependent's turn" 0.14-0.24 ms more than the one they replaced on PostgreSQL; one, 0.12-0.17): the open
        // waits, the running tasks, and a row when another child of the parent is open.
        var waits = new List<OpenWait>();
        var running = new HashSet<long>();
        var otherChildOpen = false;
        while (await r.ReadAsync(ct))
        {
            switch (r.GetInt32(0))
            {
                case 0: waits.Add(new OpenWait(r.GetInt64(1), r.GetString(2))); break;
                case 1: running.Add(r.GetInt64(1)); break;
                default: otherChildOpen = true; break;
            }
        }
        return new Settled(dependents, waits, running, otherChildOpen);
    }

    private static Task<Settled> SettledReadsAsync(AppDbContext db, long taskId, DateTime now, CancellationToken ct) =>
        db.OnOpenConnectionAsync(async () =>
        {
            await using var cmd = db.Command(SettledSql).BindSettled(taskId, now);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            return await ReadSettledAsync(r, ct);
        }, ct);
}
