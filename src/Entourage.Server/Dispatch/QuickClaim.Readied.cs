using System.Data.Common;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Storage;

namespace Entourage.Server.Dispatch;

internal static partial class QuickClaim
{
    /// <summary>
    /// Who a claim statement is for, as SQL expressions: the agent, its team, and the data of its task's move entry
    /// (which names the agent). <see cref="Bound"/>: parameters the caller binds, for an agent it knows; a writer whose
    /// statement finds the agent itself gives expressions (<see cref="Readied"/>).
    /// </summary>
    private sealed record ClaimFor(string Agent, string Team, string MovedData)
    {
        public static readonly ClaimFor Bound = new("@agent", "@team", "@moved_data");
    }

    /// <summary>
    /// The task variant inside the statement of a writer that sets a task done, for the agent of a dependent that
    /// statement makes ready (<see cref="QuickDone"/>). The writer names the dependent in a CTE <c>ag (agent, team, task)</c>,
    /// at most one row, and gives the tasks of the wake-ups it inserts for that agent (the dependent's among them, unless
    /// its wake-up was pending already), since the claim takes every pending wake-up of the agent. One
    /// statement sees one snapshot, so the claim is written for what the writer's own changes leave, which it cannot
    /// see: the wake-up the writer inserts is inserted claimed when the claim goes ahead (<see cref="InsertedClaimedSql"/>,
    /// as a message's is in QuickSendClaim), the done task's own wake-ups (which the writer retires) are not claimed, and
    /// the done dependency does not hold the dependent's move back. The conditions are the expected variant's (no
    /// limits, not running, placed on no runner); the writer picks only an agent whose CLI this node can launch
    /// (<see cref="Agents.AdapterCatalog.Launchable"/>), since a claim that moved a task cannot be given back. The
    /// claim's entries are written after the writer's (<c>writerEntries</c>), as they would be after its commit.
    /// No lock statement: the writer's batch took the team's lock before it.
    /// </summary>
    internal sealed class Readied(ClaimQueries.NewTurn turn, List<(string Adapter, string Executable)> launchable)
    {
        private const string Agent = "(SELECT ag.agent FROM ag)";

        private static readonly ClaimFor Who = new(Agent, "(SELECT ag.team FROM ag)", TaskHooks.MovedDataSql(Agent));

        /// <summary>Whether the claim goes ahead: an SQL condition for the writer's statement, after <see cref="BeforeSql"/>.</summary>
        public const string GoSql = "EXISTS (SELECT 1 FROM rk)";

        /// <summary>The agent's launch must be one of these (bound by <see cref="Bind"/>), for the writer's <c>ag</c>.</summary>
        public static string LaunchableSql(string adapter, string config) =>
            $"({adapter}, {Agents.AdapterCatalog.ExecutableSql(adapter, config)}) IN (SELECT l.adapter, l.exe FROM unnest(@launch_adapters, @launch_executables) l(adapter, exe))";

        /// <summary>
        /// The CTEs after the writer's <c>ag</c>, each followed by a comma: the agent's other pending wake-ups (locked,
        /// the done task's own left out: the writer retires them), the conditions and the turn's task, their claim.
        /// </summary>
        /// <param name="doneTask">The task the writer sets done.</param>
        /// <param name="insertedTasks">A query of the tasks of the wake-ups the writer inserts for the agent.</param>
        public static string BeforeSql(string doneTask, string insertedTasks) => $"""
            rp AS (SELECT r.id, r.reason, r.task_id FROM dispatch_requests r
                    WHERE r.agent_id = {Agent} AND r.state = 'pending' AND (r.task_id IS DISTINCT FROM {doneTask} OR r.reason <> 'task_ready')
                    ORDER BY r.priority, r.id
                    FOR UPDATE SKIP LOCKED),
            p AS (SELECT rp.task_id FROM rp UNION ALL {insertedTasks}),
            rk AS ({PickSql(task: true, Who, placement: true, doneTask: doneTask)}),
            rc AS (UPDATE dispatch_requests
                      SET state = 'claimed', owner = @node, lease_until = @lease, turn_id = @turn, updated_at = @now
                    WHERE id IN (SELECT rp.id FROM rp) AND {GoSql}
                   RETURNING {ClaimQueries.ClaimColumns}),
            {InsertedClaimed} AS (SELECT ag.task FROM ag WHERE {GoSql}),

            """;

        /// <summary>The task whose wake-up the writer inserts claimed (<c>ag</c>'s, when the claim goes ahead): at most one row.</summary>
        private const string InsertedClaimed = "rw";

        /// <summary>
        /// For the writer's insert of wake-ups: the join, after the table its rows come from, that finds the one to insert
        /// claimed by its task id <paramref name="task"/>; <see cref="InsertedClaimedSql"/> reads it.
        /// </summary>
        public static string InsertedClaimedJoinSql(string task) => $"LEFT JOIN {InsertedClaimed} ON {InsertedClaimed}.task = {task}";

        /// <summary>The state, owner, lease_until and turn_id of a wake-up the writer inserts, after <see cref="InsertedClaimedJoinSql"/>.</summary>
        public const string InsertedClaimedSql =
            $"CASE WHEN {InsertedClaimed}.task IS NULL THEN 'pending' ELSE 'claimed' END, CASE WHEN {InsertedClaimed}.task IS NOT NULL THEN @node END, " +
            $"CASE WHEN {InsertedClaimed}.task IS NOT NULL THEN @lease END, CASE WHEN {InsertedClaimed}.task IS NOT NULL THEN @turn END";

        /// <summary>
        /// The CTEs after the writer's insert of wake-ups (<paramref name="writerRequests"/>, returning
        /// <see cref="ClaimQueries.ClaimColumns"/>), each preceded by a comma: the claimed requests, the turn, the task's
        /// move and its entries (after <paramref name="writerEntries"/>, the writer's own).
        /// </summary>
        /// <param name="doneTask">The task the writer sets done: a dependency the move must not wait for.</param>
        public static string AfterSql(string doneTask, string writerRequests, string writerEntries) => $"""
            ,
            c AS (SELECT {ClaimQueries.ClaimColumns} FROM rc
                  UNION ALL SELECT {ClaimQueries.ClaimColumns} FROM {writerRequests} w WHERE w.state = 'claimed'),
            t AS ({InsertTurnSql(Who, "(SELECT rk.task_id FROM rk)")}
                   AND (SELECT COUNT(*) FROM {writerEntries}) > 0
                  RETURNING task_id, attempt),
            m AS ({TaskHooks.MoveToInProgressSql(TurnTask, "(SELECT t.attempt FROM t)", TaskReadySql, Who.Agent, doneTask)}),
            e2 AS ({TaskHooks.InsertEventsSql("m", TurnTask, StartedDataSql(Who), Who.MovedData)})
            """;

        /// <summary>
        /// The claim's rows for the writer's final select, ahead of its own (their types set the union's): the kind
        /// <paramref name="kind"/>, four columns of the writer's then the launch, then what <see cref="AddRow"/> reads.
        /// </summary>
        public static string RowsSql(int kind) => $"""
            SELECT {kind}, NULL::bigint, NULL::uuid, NULL::uuid, a.adapter, a.config_json, {ClaimRowSql("e2")}
              FROM c CROSS JOIN t JOIN agents a ON a.id = c.agent_id
            """;

        /// <summary>The writer's row of another kind, with the claim's columns empty.</summary>
        public static readonly string NoClaimColumns = string.Join(", ", Enumerable.Repeat("NULL", ClaimRowColumns));

        private readonly Read _read = new([]);
        private AgentLaunch? _launch;

        /// <summary>Its parameters (names the writer's statement must not use: the turn's, and <see cref="TaskHooks.BindTurnStart(DbCommand, DateTime)"/>'s).</summary>
        public void Bind(DbCommand cmd) =>
            cmd.With("node", turn.Node).With("lease", turn.Lease).With("turn", turn.Id).With("token_hash", turn.Hash).BindTurnStart(turn.Now)
                .With("launch_adapters", launchable.Select(l => l.Adapter).ToArray())
                .With("launch_executables", launchable.Select(l => l.Executable).ToArray());

        /// <summary>One of <see cref="RowsSql"/>'s rows: the launch at columns 4–5, the claim's from column 6.</summary>
        public void AddRow(DbDataReader r)
        {
            _launch ??= new(r.GetString(4), r.GetString(5));
            AddClaimRow(_read, r, at: 6);
        }

        /// <summary>The claimed turn and its task changes, once every row was read; null when nothing was claimed.</summary>
        public (ClaimedTurn Turn, List<TaskWrites.Change> TaskChanges)? Claimed() =>
            _read.Requests.Count == 0 || _launch is null ? null : TaskClaimed(turn, _read, _read.Requests[0].AgentId, _read.Requests[0].TeamId, _launch);
    }
}
