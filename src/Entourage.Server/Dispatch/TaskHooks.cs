using System.Data.Common;
using System.Globalization;
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

    /// <summary>
    /// The claimed task's move to in_progress, over SQL expressions for the task, the turn's attempt and whether the
    /// turn was woken for the task: parameters here, the claim's own rows in <see cref="QuickClaim"/>'s statement.
    /// <paramref name="doneHere"/>: a dependency the same statement sets done, which its snapshot still shows unfinished.
    /// </summary>
    internal static string MoveToInProgressSql(string task = "@task", string attempt = "@attempt", string ready = "@ready", string agent = "@agent", string? doneHere = null) => $"""
        UPDATE tasks
           SET status = @in_progress, started_at = COALESCE(started_at, @now), updated_at = @now,
               attempts = CASE WHEN attempts > {attempt} THEN attempts ELSE {attempt} END, version = version + 1
         WHERE id = {task} AND status = @todo AND assignee_id = {agent} AND {ready}
           AND NOT EXISTS (SELECT 1 FROM task_dependencies d
                            WHERE d.task_id = {task}{(doneHere is null ? "" : $" AND d.depends_on_id <> {doneHere}")}
                              AND (SELECT x.status FROM tasks x WHERE x.id = d.depends_on_id) <> @done)
        RETURNING id, team_id
        """;

    /// <summary>The timeline entries in one insert, in order (the move first, when <c>moved</c> has its row).</summary>
    internal static string InsertEventsSql(string moved, string task = "@task", string startedData = "@started_data", string movedData = "@moved_data") => $"""
        INSERT INTO task_events (task_id, team_id, kind, actor_type, actor_id, actor_name, from_status, to_status, data_json, created_at)
        SELECT v.task_id, v.team_id, v.kind, @actor_type, @actor_id, @actor_name, v.from_status, v.to_status, v.data_json, @now
          FROM (SELECT 1 AS ord, m.id AS task_id, m.team_id, 'status_changed' AS kind, @todo AS from_status, @in_progress AS to_status, {movedData} AS data_json FROM {moved} m
                UNION ALL
                SELECT 2, k.id, k.team_id, 'turn_started', NULL, NULL, {startedData} FROM tasks k WHERE k.id = {task}) v
         ORDER BY v.ord
        RETURNING id, team_id
        """;

    // PostgreSQL: the move and both entries in one statement (one round trip inside the claim's transaction).
    private static readonly string PostgresSql = $"""
        WITH u AS ({MoveToInProgressSql()}),
             e AS ({InsertEventsSql("u")})
        SELECT (SELECT COUNT(*) FROM u), e.id, e.team_id FROM e ORDER BY e.id
        """;

    // SQLite (no writes in a WITH): the move, then the entries, which see it through @moved.
    private static readonly string SqliteEventsSql = InsertEventsSql("(SELECT id, team_id FROM tasks WHERE id = @task AND @moved)");

    /// <summary>The data of the status_changed entry of a turn's start (known before the claim).</summary>
    internal static string MovedData(Guid turnId, Guid agentId) =>
        TaskTimeline.New(0, Guid.Empty, "status_changed", Dispatcher, default, data: new { turn_id = turnId, agent_id = agentId, reason = MovedReason }).DataJson!;

    /// <summary><see cref="MovedData"/> built by the statement, for a claim whose agent the statement itself finds (an SQL expression).</summary>
    internal static string MovedDataSql(string agent) => $"json_build_object('turn_id', @turn, 'agent_id', {agent}, 'reason', '{MovedReason.Replace("'", "''", StringComparison.Ordinal)}')::text";

    private const string MovedReason = "its agent's turn started";

    /// <summary>The parameters of the task's move and its entries every caller binds: states, the actor, the time, the agent.</summary>
    internal static DbCommand BindTurnStart(this DbCommand cmd, Guid agentId, DateTime now, string movedData) => cmd
        .BindTurnStart(now).With("agent", agentId).With("moved_data", movedData);

    /// <summary>Those of <see cref="BindTurnStart(DbCommand, Guid, DateTime, string)"/> that do not name the agent.</summary>
    internal static DbCommand BindTurnStart(this DbCommand cmd, DateTime now) => cmd
        .With("now", now)
        .With("todo", TaskState.Todo).With("in_progress", TaskState.InProgress).With("done", TaskState.Done)
        .With("actor_type", Dispatcher.Type).With("actor_id", Dispatcher.Id).With("actor_name", Dispatcher.Name);

    /// <summary>
    /// The claimed task moves to in_progress when the turn was woken for it, it is still todo, assigned to the
    /// turn's agent and no dependency is unfinished; every turn on a task gets a turn_started entry. Hand-written
    /// (the claim's hot path: EF's read, tracking and save cost 2–3 ms here for microseconds of store work), in
    /// the caller's transaction; the returned changes are published after its commit.
    /// </summary>
    internal static async Task<List<TaskWrites.Change>> OnTurnStartedAsync(AppDbContext db, long taskId, Turn turn, IReadOnlyList<DispatchRequest> requests, DateTime now, CancellationToken ct)
    {
        var ready = requests.Any(r => r.Reason == DispatchReason.TaskReady && r.TaskId == taskId);
        var started = TaskTimeline.New(taskId, turn.TeamId, "turn_started", Dispatcher, now, data: new
        {
            turn_id = turn.Id,
            agent_id = turn.AgentId,
            attempt = turn.Attempt,
            node = turn.Node,
            reasons = requests.Select(r => EnumNames.ToSnake(r.Reason)).Distinct().ToArray(),
            request_ids = requests.Select(r => r.Id).ToArray(),
        });
        DbCommand Bind(DbCommand cmd) => cmd.BindTurnStart(turn.AgentId, now, MovedData(turn.Id, turn.AgentId))
            .With("task", taskId).With("attempt", turn.Attempt).With("ready", ready).With("started_data", started.DataJson);

        var changes = new List<TaskWrites.Change>(3);
        if (db.IsPostgres)
        {
            await using var cmd = Bind(db.Command(PostgresSql));
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                if (changes.Count == 0 && r.GetInt64(0) > 0) changes.Add(new("task", taskId.ToString(CultureInfo.InvariantCulture), r.Guid(2), "modified"));
                changes.Add(new("task_event", r.GetInt64(1).ToString(CultureInfo.InvariantCulture), r.Guid(2), "added"));
            }
            return changes;
        }

        await using (var move = Bind(db.Command(MoveToInProgressSql())))
        await using (var r = await move.ExecuteReaderAsync(ct))
            if (await r.ReadAsync(ct)) changes.Add(new("task", taskId.ToString(CultureInfo.InvariantCulture), r.Guid(1), "modified"));
        await using (var insert = Bind(db.Command(SqliteEventsSql)).With("moved", changes.Count > 0))
        await using (var r = await insert.ExecuteReaderAsync(ct))
        {
            var ids = new List<(long Id, Guid Team)>(2);
            while (await r.ReadAsync(ct)) ids.Add((r.GetInt64(0), r.Guid(1)));
            // RETURNING gives no order; the entries' ids do (they were inserted in timeline order).
            changes.AddRange(ids.OrderBy(x => x.Id).Select(x => new TaskWrites.Change("task_event", x.Id.ToString(CultureInfo.InvariantCulture), x.Team, "added")));
        }
        return changes;
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
