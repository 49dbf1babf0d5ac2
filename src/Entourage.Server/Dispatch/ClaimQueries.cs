using System.Globalization;
using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Dispatch;

/// <summary>
/// The dispatcher's statements, hand-written (<see cref="RawCommands"/>): the candidates query runs on every
/// wake-up and the rest on every claim, and EF's own work around each (expression trees, materialisation, change
/// tracking, command building) cost more than the store's. The claim's rules live in <see cref="Claimer"/>.
/// </summary>
internal static class ClaimQueries
{
    public sealed record CandidateRow(Guid AgentId, Guid TeamId, string Adapter, string ConfigJson, string? AgentLabels, string? TeamLabels, bool TaskWork);

    /// <param name="Manager">The agent is its team's manager: it works every ready task of a turn, not one at a time.</param>
    public sealed record Gate(int? MaxConcurrentAgents, double? DailyCostLimitUsd, int Running, double Spent, bool AgentBusy, long? CurrentTask, bool Manager);

    /// <summary>
    /// DESIGN §1, engineers work one task at a time: whether <paramref name="agent"/>, unless it is the manager, has a
    /// task in progress other than <paramref name="task"/> (and <paramref name="alsoNot"/>, a task the caller's own
    /// statement sets done, which its snapshot still shows in progress). SQL expressions in, a condition out.
    /// </summary>
    internal static string BusyElsewhereSql(string agent, string task, string? alsoNot = null) => $"""
        EXISTS (SELECT 1 FROM tasks bt JOIN agents ba ON ba.id = bt.assignee_id
                 WHERE bt.assignee_id = {agent} AND bt.status = 'in_progress' AND bt.id <> {task}{(alsoNot is null ? "" : $" AND bt.id <> {alsoNot}")}
                   AND ba.role <> 'manager')
        """;

    /// <summary>
    /// A pending request that is not work yet, for a request <c>r</c>: the ready task of an engineer busy with another
    /// (<see cref="BusyElsewhereSql"/>). The next task starts when the current one leaves in_progress (review, done,
    /// failed, cancelled, back to todo); its wake-up waits, pending, and the turn that ends that task (or the fallback
    /// poll) finds it again.
    /// </summary>
    internal static readonly string HeldSql = $"r.reason = 'task_ready' AND {BusyElsewhereSql("r.agent_id", "r.task_id")}";

    private static readonly string CandidatesSql = $"""
        SELECT d.agent_id, d.team_id, a.adapter, a.config_json, a.runner_labels, t.runner_labels, d.task_work
          FROM (SELECT r.agent_id, r.team_id, MIN(r.priority) AS priority, MIN(r.id) AS first_id,
                       MAX(CASE WHEN r.task_id IS NULL THEN 0 ELSE 1 END) AS task_work
                  FROM dispatch_requests r
                 WHERE r.state = 'pending'
                   AND NOT EXISTS (SELECT 1 FROM turns x WHERE x.agent_id = r.agent_id AND x.state = 'running')
                   AND NOT ({HeldSql})
                 GROUP BY r.agent_id, r.team_id) d
          JOIN agents a ON a.id = d.agent_id
          JOIN teams t ON t.id = d.team_id

        """;

    // Placement: a node without labels never sees pinned agents (so they cannot crowd out its window).
    private const string UnpinnedOnly = " WHERE a.runner_labels IS NULL AND t.runner_labels IS NULL\n";

    private const string CandidatesOrder = " ORDER BY d.priority, d.first_id LIMIT @max";

    internal const string GateSql = """
        SELECT t.max_concurrent_agents,
               t.daily_cost_limit_usd,
               CASE WHEN t.max_concurrent_agents IS NULL THEN 0
                    ELSE (SELECT COUNT(*) FROM turns x WHERE x.team_id = t.id AND x.state = 'running') END,
               CASE WHEN t.daily_cost_limit_usd IS NULL THEN 0.0
                    ELSE COALESCE((SELECT SUM(u.cost_usd) FROM usage_records u WHERE u.team_id = t.id AND u.day = @today), 0.0) END,
               EXISTS (SELECT 1 FROM turns x WHERE x.agent_id = @agent AND x.state = 'running'),
               (SELECT k.id FROM tasks k WHERE k.assignee_id = @agent AND k.status = 'in_progress' ORDER BY k.started_at DESC LIMIT 1),
               EXISTS (SELECT 1 FROM agents a WHERE a.id = @agent AND a.role = 'manager')
          FROM teams t
         WHERE t.id = @team
        """;

    public const string ClaimColumns = "id, agent_id, team_id, reason, ref, task_id, state, priority, attempts, owner, lease_until, turn_id, last_error, created_at, updated_at";

    // PostgreSQL: rows another node holds are skipped. SQLite: BEGIN IMMEDIATE already made this the only writer.
    private const string ClaimPostgresSql = $"""
        UPDATE dispatch_requests
           SET state = 'claimed', owner = @node, lease_until = @lease, turn_id = @turn, updated_at = @now
         WHERE id IN (SELECT id FROM dispatch_requests
                       WHERE agent_id = @agent AND state = 'pending'
                       ORDER BY priority, id
                       FOR UPDATE SKIP LOCKED)
        RETURNING {ClaimColumns}
        """;

    private const string ClaimSqliteSql = $"""
        UPDATE dispatch_requests
           SET state = 'claimed', owner = @node, lease_until = @lease, turn_id = @turn, updated_at = @now
         WHERE agent_id = @agent AND state = 'pending'
        RETURNING {ClaimColumns}
        """;

    /// <summary>A turn row's columns, in the order <see cref="InsertTurnSql"/> and <see cref="QuickClaim"/> write them.</summary>
    public const string TurnColumns = """
        id, agent_id, team_id, task_id, state, node, attempt, started_at, ended_at, heartbeat_at, lease_until,
        exit_code, error, session_id, working_directory, log, input_tokens, output_tokens, cache_read_tokens,
        cache_write_tokens, cost_usd, token_hash
        """;

    private const string InsertTurnSql = $"""
        INSERT INTO turns ({TurnColumns})
        VALUES (@id, @agent, @team, @task, @state, @node, @attempt, @started, NULL, @heartbeat, @lease,
                NULL, NULL, NULL, NULL, '', 0, 0, 0, 0, 0, @token_hash)
        """;

    /// <summary>Agents with pending requests and no running turn, oldest work first; see <see cref="Claimer.CandidatesAsync(int, CancellationToken)"/>.</summary>
    public static Task<List<CandidateRow>> CandidatesAsync(AppDbContext db, bool unpinnedOnly, int max, CancellationToken ct) =>
        db.OnOpenConnectionAsync(async () =>
        {
            await using var cmd = db.Command(CandidatesSql + (unpinnedOnly ? UnpinnedOnly : "") + CandidatesOrder).With("max", max);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            var rows = new List<CandidateRow>();
            while (await r.ReadAsync(ct))
                rows.Add(new CandidateRow(r.Guid(0), r.Guid(1), r.GetString(2), r.GetString(3), r.NullableString(4), r.NullableString(5), Convert.ToInt64(r.GetValue(6), CultureInfo.InvariantCulture) > 0));
            return rows;
        }, ct);

    /// <summary>The team's limits, its running turns and today's spend, whether the agent is busy, and its current task.</summary>
    public static async Task<Gate?> GateAsync(AppDbContext db, Guid teamId, Guid agentId, DateOnly today, CancellationToken ct)
    {
        await using var cmd = db.Command(GateSql).With("team", teamId).With("agent", agentId).With("today", today);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct)) return null;
        var inv = CultureInfo.InvariantCulture;
        return new Gate(
            r.IsDBNull(0) ? null : Convert.ToInt32(r.GetValue(0), inv),
            r.IsDBNull(1) ? null : Convert.ToDouble(r.GetValue(1), inv),
            Convert.ToInt32(r.GetValue(2), inv),
            Convert.ToDouble(r.GetValue(3), inv),
            // The task a turn woken only by messages works on (PickTask): read under the claim's lock, rather
            // than in a query of its own after the claim.
            Convert.ToBoolean(r.GetValue(4), inv),
            r.NullableLong(5),
            Convert.ToBoolean(r.GetValue(6), inv));
    }

    /// <summary>The claim statement of DESIGN §4: every pending request of the agent, returned by the same statement, oldest first.</summary>
    public static async Task<List<DispatchRequest>> ClaimRequestsAsync(AppDbContext db, string nodeId, Guid agentId, Guid turnId, DateTime lease, DateTime now, CancellationToken ct)
    {
        await using var cmd = db.Command(db.IsPostgres ? ClaimPostgresSql : ClaimSqliteSql)
            .With("node", nodeId).With("lease", lease).With("turn", turnId).With("now", now).With("agent", agentId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<DispatchRequest>();
        while (await r.ReadAsync(ct))
            list.Add(ReadRequest(r));
        // RETURNING gives no order; the prompt lists the agent's new work oldest first.
        list.Sort((a, b) => a.Id.CompareTo(b.Id));
        return list;
    }

    /// <summary>A dispatch request from 15 columns of a row from column <paramref name="at"/> on, in <see cref="ClaimColumns"/> order.</summary>
    public static DispatchRequest ReadRequest(System.Data.Common.DbDataReader r, int at = 0) => new()
    {
        Id = r.GetInt64(at + 0),
        AgentId = r.Guid(at + 1),
        TeamId = r.Guid(at + 2),
        Reason = EnumNames.Parse<DispatchReason>(r.GetString(at + 3)),
        Ref = r.NullableString(at + 4),
        TaskId = r.NullableLong(at + 5),
        State = EnumNames.Parse<DispatchState>(r.GetString(at + 6)),
        Priority = r.GetInt32(at + 7),
        Attempts = r.GetInt32(at + 8),
        Owner = r.NullableString(at + 9),
        LeaseUntil = r.NullableUtc(at + 10),
        TurnId = r.NullableGuid(at + 11),
        LastError = r.NullableString(at + 12),
        CreatedAt = r.Utc(at + 13),
        UpdatedAt = r.Utc(at + 14),
    };

    /// <summary>The row of a turn a claim starts (what <see cref="InsertTurnAsync"/> writes).</summary>
    public static Turn RunningTurn(Guid id, ClaimCandidate c, long? taskId, string node, int attempt, DateTime now, DateTime lease, string tokenHash) => new()
    {
        Id = id,
        AgentId = c.AgentId,
        TeamId = c.TeamId,
        TaskId = taskId,
        State = TurnState.Running,
        Node = node,
        Attempt = attempt,
        StartedAt = now,
        HeartbeatAt = now,
        LeaseUntil = lease,
        TokenHash = tokenHash,
    };

    /// <summary>A turn about to be claimed: its id, lease end, start time and per-turn token (plaintext and hash).</summary>
    public sealed record NewTurn(Guid Id, DateTime Now, DateTime Lease, string Token, string Hash, string Node)
    {
        public static NewTurn Create(string node, DateTime now, TimeSpan leaseFor)
        {
            var (token, hash, _) = TurnTokens.Mint();
            return new NewTurn(Guid.CreateVersion7(), now, now + leaseFor, token, hash, node);
        }
    }

    /// <summary>The claimed turn of a one-statement claim, its requests oldest first (RETURNING gives no order; the prompt lists them so).</summary>
    public static ClaimedTurn Bind(NewTurn t, ClaimCandidate c, long? taskId, int attempt, List<DispatchRequest> requests)
    {
        requests.Sort((a, b) => a.Id.CompareTo(b.Id));
        return new ClaimedTurn(RunningTurn(t.Id, c, taskId, t.Node, attempt, t.Now, t.Lease, t.Hash), requests, t.Token);
    }

    /// <summary>The running turn's row. The unique partial index rejects a second running turn of the agent.</summary>
    public static async Task InsertTurnAsync(AppDbContext db, Turn turn, CancellationToken ct)
    {
        await using var cmd = db.Command(InsertTurnSql)
            .With("id", turn.Id).With("agent", turn.AgentId).With("team", turn.TeamId).With("task", turn.TaskId)
            .With("state", turn.State).With("node", turn.Node).With("attempt", turn.Attempt).With("started", turn.StartedAt)
            .With("heartbeat", turn.HeartbeatAt).With("lease", turn.LeaseUntil).With("token_hash", turn.TokenHash);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
