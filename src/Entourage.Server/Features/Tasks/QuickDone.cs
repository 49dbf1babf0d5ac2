using System.Globalization;
using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Storage;
using Npgsql;

namespace Entourage.Server.Features.Tasks;

/// <summary>
/// PostgreSQL: a task's "done" in one round trip, when its effects are the plain ones: the change, its timeline
/// entry, the retirement of its own wake-ups, and its dependents made ready (their entries and wake-ups), with the
/// turn of the first one's assignee claimed in the same statement when this node has a free slot and can launch its
/// CLI (<see cref="QuickClaim.Readied"/>: the readied wake-up is inserted claimed). One batch, which PostgreSQL runs as
/// one transaction: the team's lock, this statement, the answer's reads. The turn is published and started before the
/// answer is built.
/// <para>
/// The general path (<see cref="ChangeTaskStatus"/>) reads first, applies <see cref="DagEffects"/> in C#, then writes:
/// two round trips, and on this 2-core VM each costs ~1 ms of wake-ups for well under that of store work. That made
/// "done → the dependent's turn claimed" 2.0–2.6 times "message → turn claimed" (one statement), against a goal of 1.5;
/// in one batch it is about 1.8 times, measured sample by sample on a store with history (the rest is the store's work:
/// bench/README.md, fourteenth and fifteenth sessions).
/// </para>
/// <para>
/// The statement changes nothing unless every rule it does not carry out has nothing to do, each checked in SQL as
/// the general path decides it: the move is allowed (from in_progress or in_review), the review gate lets it through
/// (<see cref="ChangeTaskStatusReviewGate"/>), no dependent it makes ready is unassigned (the manager's wake-up), no
/// open wait of the team can settle (<see cref="DagEffects.Settled.MaySettleAWait"/>), and the task is not its
/// parent's last open child (the parent's rule). Otherwise the batch only read, and the caller takes the general path,
/// which also gives any refusal its answer. Those are a feature's last steps and the errors; a sub-task's done with
/// its manager waiting is the common case, and is covered. A failed batch (another node claimed the agent's turn
/// first) rolls back whole, and takes the general path too.
/// </para>
/// <para>
/// The change's time is read before the lock, as the one-statement claims' is (<see cref="QuickClaim"/>).
/// Tested against the general path: the same rows, entries and wake-ups, on random DAGs, and with the claim, against the
/// general path then the dispatcher's claim on its hint: the same turns and timelines (QuickDoneProperties).
/// </para>
/// </summary>
internal static class QuickDone
{
    /// <summary>The statement, with the claim of the first readied dependent's turn in it or without.</summary>
    private static string DoneSql(bool claim) => $$"""
        WITH k AS (SELECT t.id, t.team_id, t.parent_id, t.status FROM tasks t WHERE t.id = @id),
             dependents AS MATERIALIZED (SELECT d.task_id FROM task_dependencies d WHERE d.depends_on_id = @id),
             ready AS (
               SELECT x.id, x.team_id, x.assignee_id,
                      EXISTS (SELECT 1 FROM dispatch_requests r WHERE r.agent_id = x.assignee_id AND r.task_id = x.id
                                 AND r.reason = 'task_ready' AND r.state = 'pending') AS pending
                 FROM dependents JOIN tasks x ON x.id = dependents.task_id
                WHERE x.status = 'todo'
                  AND NOT EXISTS (SELECT 1 FROM task_dependencies d2
                                   WHERE d2.task_id = x.id AND d2.depends_on_id <> @id
                                     AND (SELECT y.status FROM tasks y WHERE y.id = d2.depends_on_id) <> 'done')),
             g AS (
               SELECT k.id, k.team_id, k.status FROM k
                WHERE k.status IN ('in_progress', 'in_review')
                  AND (NOT @done_by_agent OR NOT (SELECT tm.require_review FROM teams tm WHERE tm.id = k.team_id)
                       OR EXISTS (SELECT 1 FROM tasks c WHERE c.parent_id = k.id))
                  AND (k.parent_id IS NULL OR EXISTS (SELECT 1 FROM tasks c WHERE c.parent_id = k.parent_id AND c.id <> k.id
                                                        AND c.status NOT IN ('done', 'failed', 'cancelled')))
                  AND NOT EXISTS (SELECT 1 FROM ready WHERE ready.assignee_id IS NULL)
                  AND NOT EXISTS (
                        SELECT 1 FROM task_waits w
                         WHERE w.team_id = k.team_id AND w.completed_at IS NULL
                           AND NOT EXISTS (
                                 SELECT 1 FROM jsonb_array_elements_text(w.task_ids_json::jsonb) j(v)
                                  WHERE j.v::bigint <> k.id
                                    AND (j.v::bigint IN (SELECT ready.id FROM ready)
                                         OR EXISTS (SELECT 1 FROM tasks x WHERE x.id = j.v::bigint AND x.team_id = k.team_id
                                                       AND x.status IN ('in_progress', 'in_review')))))),
             {{(claim ? ClaimBeforeSql : "")}}u AS (UPDATE tasks SET status = 'done', updated_at = @done_now, completed_at = @done_now, version = version + 1
                    WHERE id = (SELECT g.id FROM g)
                   RETURNING id, team_id),
             retired AS (UPDATE dispatch_requests SET state = 'done', updated_at = @done_now
                          WHERE task_id = @id AND reason = 'task_ready' AND state = 'pending' AND EXISTS (SELECT 1 FROM u)),
             e AS (INSERT INTO task_events (task_id, team_id, kind, actor_type, actor_id, actor_name, from_status, to_status, data_json, created_at)
                   SELECT v.task_id, v.team_id, v.kind, @done_actor_type, @done_actor_id, @done_actor_name, v.from_status, v.to_status, v.data_json, @done_now
                     FROM (SELECT 0::bigint AS ord, u.id AS task_id, u.team_id, 'status_changed' AS kind, (SELECT g.status FROM g) AS from_status,
                                  'done' AS to_status, @done_status_data AS data_json FROM u
                           UNION ALL
                           SELECT ready.id, ready.id, ready.team_id, 'unblocked', NULL, NULL, @done_unblocked_data FROM ready WHERE EXISTS (SELECT 1 FROM u)) v
                    ORDER BY v.ord
                   RETURNING id, team_id),
             q AS (INSERT INTO dispatch_requests (agent_id, team_id, reason, ref, task_id, state, owner, lease_until, turn_id, priority, attempts, last_error, created_at, updated_at)
                   SELECT ready.assignee_id, ready.team_id, 'task_ready', ready.id::text, ready.id,
                          {{(claim ? QuickClaim.Readied.InsertedClaimedSql : "'pending', NULL, NULL, NULL")}}, 0, 0, NULL, @done_now, @done_now
                     FROM ready {{(claim ? QuickClaim.Readied.InsertedClaimedJoinSql("ready.id") : "")}} WHERE NOT ready.pending AND EXISTS (SELECT 1 FROM u)
                    ORDER BY ready.id
                   RETURNING {{ClaimQueries.ClaimColumns}}){{(claim ? QuickClaim.Readied.AfterSql("@id", writerRequests: "q", writerEntries: "e") : "")}}
        {{(claim ? QuickClaim.Readied.RowsSql(kind: 3) + "\nUNION ALL " : "")}}SELECT 0, u.id, u.team_id, NULL::uuid, (SELECT g.status FROM g), NULL{{Empty(claim)}} FROM u
        UNION ALL SELECT 1, e.id, e.team_id, NULL, NULL, NULL{{Empty(claim)}} FROM e
        UNION ALL SELECT 2, q.id, q.team_id, q.agent_id, a.adapter, a.config_json{{Empty(claim)}} FROM q JOIN agents a ON a.id = q.agent_id
        """;

    private static string Empty(bool claim) => claim ? ", " + QuickClaim.Readied.NoClaimColumns : "";

    /// <summary>
    /// The dependent whose turn the statement claims: the first it makes ready whose agent's CLI this node can launch
    /// (<see cref="Server.Agents.AdapterCatalog.Launchable"/>), and the claim's CTEs before the statement's writes.
    /// </summary>
    private static readonly string ClaimBeforeSql = $"""
        ag AS (SELECT ready.assignee_id AS agent, ready.team_id AS team, ready.id AS task
                 FROM ready JOIN agents a ON a.id = ready.assignee_id
                WHERE EXISTS (SELECT 1 FROM g) AND {QuickClaim.Readied.LaunchableSql("a.adapter", "a.config_json")}
                ORDER BY ready.id LIMIT 1),
        {QuickClaim.Readied.BeforeSql("@id", "SELECT ready.id FROM ready WHERE ready.assignee_id = (SELECT ag.agent FROM ag) AND NOT ready.pending")}
        """;

    private static readonly string PlainSql = DoneSql(claim: false);

    private static readonly string ClaimingSql = DoneSql(claim: true);

    /// <summary>
    /// The task's answer after its "done", or null when the general path must make the change (nothing was changed;
    /// see the class remarks): not PostgreSQL, a context already tracking the task or inside a transaction, a rule
    /// that has something to do, a refusal, or a failed batch.
    /// </summary>
    public static async Task<TaskDto?> TryAsync(AppDbContext db, long taskId, Actor actor, string? reason, DateTime now, CancellationToken ct)
    {
        if (!db.IsPostgres || db.Database.CurrentTransaction is not null || db.Tasks.Local.Any(t => t.Id == taskId)) return null;
        var slot = db.Changes().Slots?.Reserve();
        var launchable = slot?.Launchable() ?? [];
        if (launchable.Count == 0) slot?.Dispose();
        var claim = launchable.Count == 0 ? null : new QuickClaim.Readied(slot!.NewTurn(now), launchable);
        Outcome outcome;
        try
        {
            outcome = await ChangeAsync(db, taskId, actor, reason, now, claim, ct);
        }
        catch (PostgresException)
        {
            // The batch rolled back whole: most likely another node started the agent's turn first (the unique index).
            slot?.Dispose();
            return null;
        }
        catch
        {
            slot?.Dispose();
            throw;
        }

        var claimed = outcome.Claimed;
        if (claimed is null) slot?.Dispose();

        var changes = db.Changes();
        TaskWrites.Publish(db, outcome.Changes);
        // The dispatcher claims the other agents' turns; the hint spares it the candidates query (Doorbell.Expect).
        foreach (var (agent, team, launch) in outcome.Readied)
            if (agent != claimed?.Turn.Turn.AgentId) changes.ExpectWork(agent, team, launch);
        if (claimed is { } started)
        {
            slot!.Claimed(started.Turn.Turn.AgentId);
            Claimer.Publish(db, started.Turn, started.TaskChanges);
            slot.Start(started.Turn);
        }
        // After the claim, so the dispatcher's pass does not run ahead of it: the assignee may have a next task waiting.
        if (outcome.Freed) changes.FreeWork();
        return outcome.Answer();
    }

    /// <summary>
    /// The batch, on the context's connection, with the claim of <paramref name="claim"/>'s turn in it when given; nothing
    /// published, no turn started (<see cref="TryAsync"/> does both).
    /// </summary>
    internal static Task<Outcome> ChangeAsync(AppDbContext db, long taskId, Actor actor, string? reason, DateTime now, QuickClaim.Readied? claim, CancellationToken ct) =>
        db.OnOpenConnectionAsync(() => RunAsync(db, taskId, actor, reason, now, claim, ct), ct);

    /// <param name="Answer">The task's answer, null when the change was not made.</param>
    /// <param name="Freed">The task was in progress: its assignee's held ready work (ClaimQueries.HeldSql) may start now.</param>
    internal sealed record Outcome(
        Func<TaskDto?> Answer, List<TaskWrites.Change> Changes, List<(Guid Agent, Guid Team, AgentLaunch Launch)> Readied,
        (ClaimedTurn Turn, List<TaskWrites.Change> TaskChanges)? Claimed, bool Freed = false);

    private static async Task<Outcome> RunAsync(AppDbContext db, long taskId, Actor actor, string? reason, DateTime now, QuickClaim.Readied? claim, CancellationToken ct)
    {
        var (rowSql, properties) = TaskLoad.RowSql(db);
        var sql = $"{TaskLoad.LockSql};\n{(claim is null ? PlainSql : ClaimingSql)};\n{rowSql};\n{TaskViews.EdgesSql}";
        await using var cmd = db.Command(sql)
            .With("id", taskId).With("done_now", now).With("done_by_agent", actor.Type == ActorType.Agent)
            .With("done_actor_type", actor.Type).With("done_actor_id", actor.Id).With("done_actor_name", actor.Name)
            .With("done_status_data", Data(actor, now, string.IsNullOrWhiteSpace(reason) ? null : new { Reason = reason }))
            .With("done_unblocked_data", Data(actor, now, new { Dependency = taskId }));
        claim?.Bind(cmd);

        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) { }
        await NextAsync(r, ct);
        var (changes, readied, applied, freed) = (new List<TaskWrites.Change>(), new List<(Guid, Guid, AgentLaunch)>(), false, false);
        while (await r.ReadAsync(ct))
        {
            var kind = r.GetInt32(0);
            if (kind == 3)
            {
                claim!.AddRow(r);
                continue;
            }
            var (id, team) = (r.GetInt64(1).ToString(CultureInfo.InvariantCulture), r.Guid(2));
            applied |= kind == 0;
            freed |= kind == 0 && r.GetString(4) == "in_progress";
            changes.Add(new(kind switch { 0 => "task", 1 => "task_event", _ => "dispatch_request" }, id, team, kind == 0 ? "modified" : "added"));
            if (kind == 2) readied.Add((r.Guid(3), team, new AgentLaunch(r.GetString(4), r.GetString(5))));
        }
        // The answer's reads, kept as read: they are turned into the answer once the claimed turn is on its way.
        await NextAsync(r, ct);
        var row = await r.ReadAsync(ct) ? new object[r.FieldCount] : null;
        if (row is not null) r.GetValues(row);
        await NextAsync(r, ct);
        var edges = await TaskViews.ReadEdgesAsync(r, ct);
        var claimed = claim?.Claimed();
        return new Outcome(applied && row is not null ? () => TaskViews.ToDto(TaskLoad.Materialize(row, properties), edges) : () => null, changes, readied, claimed, freed);
    }

    private static string? Data(Actor actor, DateTime now, object? data) => TaskTimeline.New(0, Guid.Empty, "", actor, now, data: data).DataJson;

    private static async Task NextAsync(System.Data.Common.DbDataReader r, CancellationToken ct)
    {
        if (!await r.NextResultAsync(ct)) throw new InvalidOperationException("The quick done batch returned fewer results than statements.");
    }
}
