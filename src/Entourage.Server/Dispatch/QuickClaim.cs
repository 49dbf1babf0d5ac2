using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Entourage.Server.Dispatch;

/// <summary>
/// The common claim on PostgreSQL in one statement (one round trip, its own transaction): an agent of a team
/// without limits, woken by messages only, with no task in progress. Such a claim needs neither the team's lock
/// (no slot or budget to share; the unique partial index still rejects a second running turn of the agent) nor
/// the task hooks, so the claim and the turn row are one <c>UPDATE … RETURNING</c> feeding an <c>INSERT</c>.
/// <para>
/// Every condition is checked by the statement itself, in its own snapshot: when any fails (a limit, a task
/// request, a running turn, nothing pending) it changes nothing and returns no row, and <see cref="Claimer"/>
/// takes the full path, under the team's lock, which also says why. Six round trips became one; on a loaded
/// 2-core machine each cost 1–3 ms.
/// </para>
/// </summary>
internal static class QuickClaim
{
    private const string Sql = $"""
        WITH c AS (
          UPDATE dispatch_requests
             SET state = 'claimed', owner = @node, lease_until = @lease, turn_id = @turn, updated_at = @now
           WHERE id IN (SELECT r.id FROM dispatch_requests r
                         WHERE r.agent_id = @agent AND r.state = 'pending'
                         ORDER BY r.priority, r.id
                         FOR UPDATE SKIP LOCKED)
             AND NOT EXISTS (SELECT 1 FROM dispatch_requests p WHERE p.agent_id = @agent AND p.state = 'pending' AND p.task_id IS NOT NULL)
             AND NOT EXISTS (SELECT 1 FROM turns x WHERE x.agent_id = @agent AND x.state = 'running')
             AND NOT EXISTS (SELECT 1 FROM tasks k WHERE k.assignee_id = @agent AND k.status = 'in_progress')
             AND EXISTS (SELECT 1 FROM teams t WHERE t.id = @team AND t.max_concurrent_agents IS NULL AND t.daily_cost_limit_usd IS NULL)
          RETURNING {ClaimQueries.ClaimColumns}),
        t AS (
          INSERT INTO turns (id, agent_id, team_id, task_id, state, node, attempt, started_at, ended_at, heartbeat_at, lease_until,
                             exit_code, error, session_id, working_directory, log, input_tokens, output_tokens, cache_read_tokens,
                             cache_write_tokens, cost_usd, token_hash)
          SELECT @turn, @agent, @team, NULL, 'running', @node, MAX(c.attempts) + 1, @now, NULL, @now, @lease,
                 NULL, NULL, NULL, NULL, '', 0, 0, 0, 0, 0, @token_hash
            FROM c HAVING COUNT(*) > 0
          RETURNING attempt)
        SELECT c.*, t.attempt FROM c CROSS JOIN t
        """;

    /// <summary>The claimed turn, or null when the statement's conditions did not all hold (nothing was changed).</summary>
    /// <exception cref="PostgresException">A unique violation: another node started a turn of the agent meanwhile.</exception>
    public static async Task<ClaimedTurn?> TryAsync(AppDbContext db, string nodeId, ClaimCandidate c, TimeSpan leaseFor, DateTime now, CancellationToken ct)
    {
        var turnId = Guid.CreateVersion7();
        var lease = now + leaseFor;
        var (token, hash, _) = TurnTokens.Mint();
        var (requests, attempt) = await db.OnOpenConnectionAsync(async () =>
        {
            await using var cmd = db.Command(Sql)
                .With("node", nodeId).With("lease", lease).With("turn", turnId).With("now", now)
                .With("agent", c.AgentId).With("team", c.TeamId).With("token_hash", hash);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            var (rows, attempt) = (new List<DispatchRequest>(), 0);
            while (await r.ReadAsync(ct))
            {
                rows.Add(ClaimQueries.ReadRequest(r));
                attempt = r.GetInt32(15);
            }
            return (rows, attempt);
        }, ct);
        if (requests.Count == 0) return null;
        // RETURNING gives no order; the prompt lists the agent's new work oldest first.
        requests.Sort((a, b) => a.Id.CompareTo(b.Id));
        var turn = ClaimQueries.RunningTurn(turnId, c, null, nodeId, attempt, now, lease, hash);
        return new ClaimedTurn(turn, requests, token);
    }
}
