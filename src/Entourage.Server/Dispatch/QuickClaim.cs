using System.Data.Common;
using System.Globalization;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Npgsql;

namespace Entourage.Server.Dispatch;

/// <summary>
/// The claim on PostgreSQL in one round trip, for an agent of a team without limits: the team's lock when the
/// claim writes a task, then one statement that claims the agent's pending requests, inserts the running turn and,
/// for a task turn, moves the task to in_progress with its two timeline entries (what <see cref="TaskHooks"/>
/// writes on the full path). Both statements go in one batch, which PostgreSQL runs as one implicit transaction:
/// the lock is held to its end, and the claim statement takes its snapshot after the lock was granted, so it sees
/// every DAG change of the team committed before it, as the full path's reads under the lock do.
/// <para>
/// The lock is taken only when the candidates query saw pending work on a task (<see cref="ClaimCandidate.TaskWork"/>:
/// the task's row and timeline are written, serialised with the team's other DAG writers). A message-only claim
/// writes no task row and needs none (a turn_started entry at most), and skips the lock statement; the unique
/// partial index still rejects a second running turn of the agent from any node.
/// </para>
/// <para>
/// The statement covers the common claims: the agent's pending requests name at most one task (so it is the turn's
/// task and no other task's wake-up has to go back to pending, see <see cref="Claimer"/>), or none (the turn works
/// on the agent's task in progress, if any). When any condition fails (a limit on the team, work on several tasks,
/// a running turn, nothing pending) it changes nothing and returns no row, and <see cref="Claimer"/> takes the full
/// path, which also says why. A team with a concurrency limit always takes the full path: its turn's start time
/// must be read after the count of running turns (see <see cref="Claimer"/>), and this statement's time is set
/// before it is sent. A task turn's claim was six round trips (lock, gate, claim, turn, task start, commit) of
/// ~0.5–1 ms each on this 2-core VM.
/// </para>
/// </summary>
internal static partial class QuickClaim
{
    /// <summary>The team's lock, for a claim that may write a task (statements of one batch run in one transaction).</summary>
    private const string LockSql = "SELECT pg_advisory_xact_lock(@key);\n";

    /// <summary>
    /// The task a task claim may have in progress: the one its requests name, or, when they name none, any (the
    /// helper's own row, <c>bt</c>): a turn woken only by messages works on the task in progress.
    /// </summary>
    private const string BusyExceptTurnTask = "COALESCE((SELECT MIN(p.task_id) FROM p), bt.id)";

    /// <summary>
    /// The conditions, and the turn's task: the one its requests name, else the agent's task in progress (as the
    /// full path's PickTask). The message variant (no lock) takes neither: a request naming a task (arrived since the
    /// candidates query) or a task in progress sends the claim to the full path, so that variant writes no task row
    /// and stays the lean statement it was.
    /// </summary>
    /// <param name="doneTask">A task the writer sets done in the same statement (which its snapshot still shows in progress).</param>
    private static string PickSql(bool task, ClaimFor who, bool placement = false, bool sameLaunch = false, string? doneTask = null) => $"""
        SELECT {(task ? $"""
                 COALESCE((SELECT MIN(p.task_id) FROM p),
                          (SELECT x.id FROM tasks x WHERE x.assignee_id = {who.Agent} AND x.status = 'in_progress' ORDER BY x.started_at DESC LIMIT 1))
                 """ : "NULL::bigint")} AS task_id
         WHERE {(task ? $"""
                 (SELECT COUNT(DISTINCT p.task_id) FROM p) <= 1
                   AND NOT {ClaimQueries.BusyElsewhereSql(who.Agent, BusyExceptTurnTask, doneTask)}
                 """ : $"""
                 NOT EXISTS (SELECT 1 FROM p WHERE p.task_id IS NOT NULL)
                   AND NOT EXISTS (SELECT 1 FROM tasks x WHERE x.assignee_id = {who.Agent} AND x.status = 'in_progress')
                 """)}
           AND NOT EXISTS (SELECT 1 FROM turns x WHERE x.agent_id = {who.Agent} AND x.state = 'running')
           AND EXISTS (SELECT 1 FROM teams t WHERE t.id = {who.Team} AND t.max_concurrent_agents IS NULL AND t.daily_cost_limit_usd IS NULL){(placement ? Placement(who) : "")}{(sameLaunch ? SameLaunch : "")}
        """;

    /// <summary>
    /// What the candidates query checks before any claim, for a claim made without it (<see cref="TryExpectedAsync"/>):
    /// the agent is the team's, and placed on no runner in particular (only unlabelled nodes claim on a hint, and
    /// such a node never runs pinned agents).
    /// </summary>
    private static string Placement(ClaimFor who) => $"""

           AND EXISTS (SELECT 1 FROM agents a JOIN teams tm ON tm.id = a.team_id
                        WHERE a.id = {who.Agent} AND a.team_id = {who.Team} AND a.runner_labels IS NULL AND tm.runner_labels IS NULL)
        """;

    /// <summary>
    /// The message variant's conditions for an agent given as an expression, as a query that returns a row when they
    /// hold: for a write that claims its recipient's turn in its own statement (QuickSend), over its own <c>p</c> (the
    /// agent's pending requests it locked).
    /// </summary>
    internal static string MessageClaimConditionSql(string agent) => PickSql(task: false, ClaimFor.Bound with { Agent = agent }, placement: true);

    /// <summary>
    /// For task work claimed on a hint: the agent still runs as the hint said (<see cref="AgentLaunch"/>), whose CLI the
    /// dispatcher found installed here before claiming. The rule that turns an adapter and config into an executable
    /// stays in one place (<see cref="Agents.AdapterCatalog"/>); a change to the agent since the hint leaves the
    /// claim to the candidates query, which checks it again.
    /// </summary>
    private const string SameLaunch = """

           AND EXISTS (SELECT 1 FROM agents a WHERE a.id = @agent AND a.adapter = @adapter AND a.config_json = @config_json)
        """;

    /// <summary>The turn_started entry's data, as <see cref="TaskHooks.OnTurnStartedAsync"/> serialises it: reasons in first-seen order, requests by id.</summary>
    private static string StartedDataSql(ClaimFor who) => $"""
        json_build_object('turn_id', @turn, 'agent_id', {who.Agent}, 'attempt', (SELECT t.attempt FROM t), 'node', @node::text,
            'reasons', (SELECT json_agg(f.reason ORDER BY f.first) FROM (SELECT c.reason, MIN(c.id) AS first FROM c GROUP BY c.reason) f),
            'request_ids', (SELECT json_agg(c.id ORDER BY c.id) FROM c))::text
        """;

    private const string TurnTask = "(SELECT t.task_id FROM t)";

    /// <summary>Whether the turn was woken for its task (the move needs it).</summary>
    private const string TaskReadySql = $"EXISTS (SELECT 1 FROM c WHERE c.reason = 'task_ready' AND c.task_id = {TurnTask})";

    /// <summary>The task's move and its entries, for the task variant.</summary>
    private static string TaskWritesSql(ClaimFor who) => $"""
        ,
        m AS ({TaskHooks.MoveToInProgressSql(TurnTask, "(SELECT t.attempt FROM t)", TaskReadySql, who.Agent)}),
        e AS ({TaskHooks.InsertEventsSql("m", TurnTask, StartedDataSql(who), who.MovedData)})
        SELECT {ClaimRowSql("e")}
        """;

    /// <summary>
    /// A claim's answer row over its CTEs <c>c</c>, <c>t</c>, <c>m</c> and <paramref name="entries"/>, as
    /// <see cref="AddClaimRow"/> reads it: a claimed request, then the turn's task, attempt and task writes.
    /// </summary>
    private static string ClaimRowSql(string entries) =>
        $"c.*, t.task_id, t.attempt, (SELECT COUNT(*) FROM m), (SELECT array_agg({entries}.id ORDER BY {entries}.id) FROM {entries}), (SELECT {entries}.team_id FROM {entries} LIMIT 1)";

    /// <summary>How many columns <see cref="ClaimRowSql"/> gives: the request's, then five.</summary>
    private static int ClaimRowColumns => ClaimQueries.ClaimColumns.Split(',').Length + 5;

    private static readonly string TaskClaimSql = LockSql + ClaimSql(task: true, ClaimFor.Bound);

    private static readonly string MessageClaimSql = ClaimSql(task: false, ClaimFor.Bound);

    /// <summary>The task variant for an agent a write on this node named with task work, and what it runs as.</summary>
    private static readonly string ExpectedTaskClaimSql = LockSql + ClaimSql(task: true, ClaimFor.Bound, placement: true, sameLaunch: true);

    /// <summary>
    /// The task variant for a write that made the agent's task ready, in that write's transaction (which holds the
    /// team's lock already; taking it again is free). Behind a savepoint: a unique violation (another node's turn of
    /// the agent) must cost the claim only, never the write.
    /// </summary>
    private static readonly string InTransactionTaskClaimSql = $"SAVEPOINT {WriteClaimSavepoint};\n" + ExpectedTaskClaimSql;

    private const string WriteClaimSavepoint = "write_claim";

    /// <param name="prelude">CTEs the statement starts with, each followed by a comma (what <paramref name="who"/>'s expressions read).</param>
    private static string ClaimSql(bool task, ClaimFor who, bool placement = false, bool sameLaunch = false, string prelude = "") => $"""
        WITH {prelude}p AS (
          SELECT r.id, r.reason, r.task_id FROM dispatch_requests r
           WHERE r.agent_id = {who.Agent} AND r.state = 'pending'
           ORDER BY r.priority, r.id
           FOR UPDATE SKIP LOCKED),
        k AS ({PickSql(task, who, placement, sameLaunch)}),
        c AS (
          UPDATE dispatch_requests
             SET state = 'claimed', owner = @node, lease_until = @lease, turn_id = @turn, updated_at = @now
           WHERE id IN (SELECT p.id FROM p) AND EXISTS (SELECT 1 FROM k)
          RETURNING {ClaimQueries.ClaimColumns}),
        t AS (
          {InsertTurnSql(who, "(SELECT k.task_id FROM k)")}
          RETURNING task_id, attempt){(task ? TaskWritesSql(who) : "\nSELECT c.*, t.task_id, t.attempt, 0::bigint, NULL::bigint[], NULL::uuid")}
          FROM c CROSS JOIN t
        """;

    /// <summary>The running turn over the claimed requests <c>c</c>, when there are any (a condition may follow).</summary>
    private static string InsertTurnSql(ClaimFor who, string task) => $"""
        INSERT INTO turns ({ClaimQueries.TurnColumns})
          SELECT @turn, {who.Agent}, {who.Team}, {task}, 'running', @node, MAX(c.attempts) + 1, {StartedAtSql(who.Agent)}, NULL, @now, @lease,
                 NULL, NULL, NULL, NULL, '', 0, 0, 0, 0, 0, @token_hash
            FROM c HAVING COUNT(*) > 0
        """;

    /// <summary>
    /// The turn's recorded start: its claim's time (<c>@now</c>, set before the statement was sent), or the end of
    /// the agent's previous turn if that is later. The statement only claims once it sees that turn ended, but the
    /// turn's end may have been stamped (on another thread or node) after this claim's time was read: recorded as
    /// it was, the two turns overlapped by a millisecond or so, as if the agent had run twice at once. The full path
    /// reads its time after its gate saw the previous turn ended, so it needs none of this.
    /// </summary>
    internal static string StartedAtSql(string agent) =>
        $"GREATEST(@now, (SELECT x.ended_at FROM turns x WHERE x.agent_id = {agent} ORDER BY x.started_at DESC LIMIT 1))";

    /// <summary>Gives a claim back that a message made for an agent whose CLI is missing here (<c>QuickSendClaim</c>): as if never made.</summary>
    private const string UnclaimSql = """
        DELETE FROM turns WHERE id = @turn AND state = 'running';
        UPDATE dispatch_requests SET state = 'pending', owner = NULL, lease_until = NULL, turn_id = NULL, updated_at = @now
         WHERE turn_id = @turn AND state = 'claimed';
        """;

    /// <summary>
    /// The claimed turn and the task changes to publish, or null when the statement's conditions did not all hold
    /// (nothing was changed).
    /// </summary>
    /// <exception cref="PostgresException">A unique violation: another node started a turn of the agent meanwhile.</exception>
    public static async Task<(ClaimedTurn Turn, List<TaskWrites.Change> TaskChanges)?> TryAsync(
        AppDbContext db, string nodeId, ClaimCandidate c, TimeSpan leaseFor, DateTime now, CancellationToken ct)
    {
        var (claim, turn) = await ClaimAsync(db, nodeId, c.AgentId, c.TeamId, c.TaskWork ? TaskClaimSql : MessageClaimSql, c.TaskWork, leaseFor, now, ct);
        return claim is null ? null : (ClaimQueries.Bind(turn, c, claim.TaskId, claim.Attempt, claim.Requests), claim.Changes());
    }

    /// <summary>
    /// The claim for an agent a write on this node named with task work (<see cref="Doorbell.Expect"/>), without the
    /// candidates query: the task variant, also checking the agent's placement and that it still runs as
    /// <paramref name="launch"/>. Null when a condition did not hold (the full path will see to the agent if it has
    /// work).
    /// </summary>
    /// <exception cref="PostgresException">A unique violation: another node started a turn of the agent meanwhile.</exception>
    public static async Task<(ClaimedTurn Turn, List<TaskWrites.Change> TaskChanges)?> TryExpectedAsync(
        AppDbContext db, string nodeId, Guid agentId, Guid teamId, AgentLaunch launch, TimeSpan leaseFor, DateTime now, CancellationToken ct)
    {
        var (claim, turn) = await ClaimAsync(db, nodeId, agentId, teamId, ExpectedTaskClaimSql, task: true, leaseFor, now, ct, launch);
        return claim is null ? null : TaskClaimed(turn, claim, agentId, teamId, launch);
    }

    /// <summary>
    /// <see cref="TryExpectedAsync"/>'s task variant inside the caller's open transaction, which made the agent's task
    /// ready and commits the claim with it. Null when a condition did not hold, or when the statement failed (another
    /// node started a turn of the agent meanwhile): that claim alone is rolled back, and the transaction goes on.
    /// </summary>
    public static async Task<(ClaimedTurn Turn, List<TaskWrites.Change> TaskChanges)?> TryInTransactionAsync(
        AppDbContext db, ClaimQueries.NewTurn turn, Guid agentId, Guid teamId, AgentLaunch launch, CancellationToken ct)
    {
        var tx = db.Database.CurrentTransaction ?? throw new InvalidOperationException("A claim in the writer's transaction needs that transaction open.");
        Read? claim;
        try
        {
            claim = await ClaimAsync(db, turn, agentId, teamId, InTransactionTaskClaimSql, task: true, ct, launch);
        }
        catch (PostgresException)
        {
            // Most likely a unique violation (another node's turn of the agent). Whatever it was, it costs the claim
            // only: the write goes on, and the dispatcher sees to the pending work.
            await tx.RollbackToSavepointAsync(WriteClaimSavepoint, ct);
            return null;
        }
        return claim is null ? null : TaskClaimed(turn, claim, agentId, teamId, launch);
    }

    /// <summary>The claimed task turn for an agent that runs as <paramref name="launch"/>, and the task changes to publish.</summary>
    private static (ClaimedTurn Turn, List<TaskWrites.Change> TaskChanges) TaskClaimed(ClaimQueries.NewTurn turn, Read claim, Guid agentId, Guid teamId, AgentLaunch launch)
    {
        var agent = new ClaimCandidate(agentId, teamId, launch.Adapter, launch.ConfigJson, TaskWork: true);
        return (ClaimQueries.Bind(turn, agent, claim.TaskId, claim.Attempt, claim.Requests), claim.Changes());
    }

    /// <summary>Undoes a message's claim before its turn started (the agent's CLI is not installed here).</summary>
    public static async Task UnclaimAsync(AppDbContext db, Guid turnId, DateTime now, CancellationToken ct) =>
        await db.OnOpenConnectionAsync(async () =>
        {
            await using var cmd = db.Command(UnclaimSql).With("turn", turnId).With("now", now);
            return await cmd.ExecuteNonQueryAsync(ct);
        }, ct);

    /// <param name="launch">For the task variant claimed on a hint or in a writer's transaction: what the agent must still run as (<see cref="SameLaunch"/>).</param>
    private static async Task<(Read? Claim, ClaimQueries.NewTurn Turn)> ClaimAsync(
        AppDbContext db, string nodeId, Guid agentId, Guid teamId, string sql, bool task, TimeSpan leaseFor, DateTime now, CancellationToken ct,
        AgentLaunch? launch = null)
    {
        var turn = ClaimQueries.NewTurn.Create(nodeId, now, leaseFor);
        return (await ClaimAsync(db, turn, agentId, teamId, sql, task, ct, launch), turn);
    }

    private static async Task<Read?> ClaimAsync(AppDbContext db, ClaimQueries.NewTurn turn, Guid agentId, Guid teamId, string sql, bool task, CancellationToken ct, AgentLaunch? launch)
    {
        var claim = await db.OnOpenConnectionAsync(async () =>
        {
            await using var cmd = Bind(db.Command(sql), turn, agentId, teamId, task, launch);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            if (task) await SkipLockAsync(r, ct);
            return await ReadAsync(r, ct);
        }, ct);
        return claim.Requests.Count == 0 ? null : claim;
    }

    private static DbCommand Bind(DbCommand cmd, ClaimQueries.NewTurn turn, Guid agentId, Guid teamId, bool task, AgentLaunch? launch)
    {
        cmd.With("team", teamId).With("node", turn.Node).With("lease", turn.Lease).With("turn", turn.Id).With("token_hash", turn.Hash);
        if (task) cmd.BindTurnStart(agentId, turn.Now, TaskHooks.MovedData(turn.Id, agentId)).With("key", TaskTransaction.LockKey(teamId));
        else cmd.With("agent", agentId).With("now", turn.Now);
        if (launch is not null) cmd.With("adapter", launch.Adapter).With("config_json", launch.ConfigJson);
        return cmd;
    }

    /// <summary>Past the lock's row (its value is void) to the claim statement's result.</summary>
    private static async Task SkipLockAsync(DbDataReader r, CancellationToken ct)
    {
        while (await r.ReadAsync(ct)) { }
        if (!await r.NextResultAsync(ct)) throw new InvalidOperationException("The claim statement of the quick claim batch returned no result.");
    }

    private static async Task<Read> ReadAsync(DbDataReader r, CancellationToken ct)
    {
        var read = new Read([]);
        while (await r.ReadAsync(ct)) AddClaimRow(read, r, at: 0);
        return read;
    }

    /// <summary>A row of a claim's answer (<see cref="ClaimRowSql"/>) from column <paramref name="at"/> on.</summary>
    private static void AddClaimRow(Read read, DbDataReader r, int at)
    {
        read.Requests.Add(ClaimQueries.ReadRequest(r, at));
        (read.TaskId, read.Attempt, read.Moved) = (r.NullableLong(at + 15), r.GetInt32(at + 16), r.GetInt64(at + 17) > 0);
        (read.EventIds, read.EventTeam) = (r.IsDBNull(at + 18) ? [] : r.GetFieldValue<long[]>(at + 18), r.NullableGuid(at + 19));
    }

    /// <summary>
    /// <see cref="TryInTransactionAsync"/> riding in the write's own batch (<see cref="TaskWrites"/>), after its
    /// statements: the claim costs no round trip of its own. <see cref="Ran"/> is false when the write was not sent as
    /// a batch (the caller then claims on its own); after a failed claim, <see cref="RecoverAsync"/> rolls back to
    /// the savepoint so the write goes on.
    /// </summary>
    internal sealed class Batched(ClaimQueries.NewTurn turn, Guid agentId, Guid teamId, AgentLaunch launch) : TaskWrites.ITail
    {
        private bool _failed;

        public Guid Agent => agentId;

        public Guid Team => teamId;

        public AgentLaunch Launch => launch;

        public bool Ran { get; private set; }

        /// <summary>The claimed turn and the task changes to publish, once <see cref="Ran"/>; null when nothing was claimed.</summary>
        public (ClaimedTurn Turn, List<TaskWrites.Change> TaskChanges)? Claimed { get; private set; }

        public void Append(System.Text.StringBuilder sql) => sql.Append(InTransactionTaskClaimSql).Append(";\n");

        public void Bind(DbCommand cmd) => QuickClaim.Bind(cmd, turn, agentId, teamId, task: true, launch);

        public async Task<bool> ReadAsync(DbDataReader reader, CancellationToken ct)
        {
            Ran = true;
            try
            {
                if (!await reader.NextResultAsync(ct)) throw new InvalidOperationException("The batched claim's lock returned no result.");
                await SkipLockAsync(reader, ct);
                var claim = await QuickClaim.ReadAsync(reader, ct);
                if (claim.Requests.Count > 0) Claimed = TaskClaimed(turn, claim, agentId, teamId, launch);
                return true;
            }
            catch (PostgresException)
            {
                // As in TryInTransactionAsync: it costs the claim only.
                _failed = true;
                return false;
            }
        }

        /// <summary>After the batch's reader is closed: back to the savepoint if the claim failed.</summary>
        public async Task RecoverAsync(AppDbContext db, CancellationToken ct)
        {
            if (_failed) await db.Database.CurrentTransaction!.RollbackToSavepointAsync(WriteClaimSavepoint, ct);
        }
    }

    /// <summary>The statement's answer: the claimed requests, each row repeating the turn's task, attempt and task writes.</summary>
    private sealed class Read(List<DispatchRequest> requests)
    {
        public List<DispatchRequest> Requests { get; } = requests;
        public long? TaskId { get; set; }
        public int Attempt { get; set; }
        public bool Moved { get; set; }
        public long[] EventIds { get; set; } = [];
        public Guid? EventTeam { get; set; }

        /// <summary>What the full path publishes after its commit, in its order: the task's move, then its entries.</summary>
        public List<TaskWrites.Change> Changes()
        {
            var changes = new List<TaskWrites.Change>(3);
            if (TaskId is not { } task || EventTeam is not { } team) return changes;
            if (Moved) changes.Add(new("task", task.ToString(CultureInfo.InvariantCulture), team, "modified"));
            changes.AddRange(EventIds.Select(id => new TaskWrites.Change("task_event", id.ToString(CultureInfo.InvariantCulture), team, "added")));
            return changes;
        }
    }
}
