using System.Data.Common;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Agents;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Entourage.Server.Dispatch;

/// <summary>An agent with pending work and no running turn (as of the read; the claim re-checks).</summary>
public sealed record ClaimCandidate(Guid AgentId, Guid TeamId, string Adapter = "command", string ConfigJson = "{}");

/// <summary>A turn this node just started: its row, the requests it took, and its plaintext per-turn token.</summary>
public sealed record ClaimedTurn(Turn Turn, IReadOnlyList<DispatchRequest> Requests, string Token);

public enum ClaimOutcome { Claimed, NothingPending, AgentBusy, TeamAtConcurrencyLimit, TeamOverBudget }

/// <summary>
/// Starts turns (DESIGN §4). Per agent, one transaction: re-check the team's limits (under the team's lock on
/// PostgreSQL so two nodes cannot both take the team's last slot), claim every pending request of the agent in
/// one statement (<c>FOR UPDATE SKIP LOCKED</c> on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises), and
/// insert the running turn. The unique partial index <c>ux_turns_one_running_per_agent</c> rejects a second
/// running turn of the agent from any node, which rolls the whole claim back.
/// </summary>
public sealed partial class Claimer(
    IDbContextFactory<AppDbContext> factory,
    NodeIdentity node,
    IOptions<DispatchOptions> options,
    BudgetGuard budget,
    TimeProvider clock,
    ILogger<Claimer> logger)
{
    /// <summary>Agents with pending requests and no running turn, oldest work first (lower priority value first).</summary>
    public async Task<List<ClaimCandidate>> CandidatesAsync(int max, CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        var rows = await db.DispatchRequests
            .Where(d => d.State == DispatchState.Pending && !db.Turns.Any(t => t.AgentId == d.AgentId && t.State == TurnState.Running))
            .GroupBy(d => new { d.AgentId, d.TeamId })
            .Select(g => new { g.Key.AgentId, g.Key.TeamId, Priority = g.Min(x => x.Priority), First = g.Min(x => x.Id) })
            .OrderBy(x => x.Priority).ThenBy(x => x.First)
            .Take(max)
            .ToListAsync(ct);
        var ids = rows.Select(r => r.AgentId).ToList();
        var agents = await db.Agents.AsNoTracking().Where(a => ids.Contains(a.Id)).ToDictionaryAsync(a => a.Id, ct);
        // Requests of a deleted agent can never run; the rest keep their order.
        return rows.Where(r => agents.ContainsKey(r.AgentId))
            .Select(r => new ClaimCandidate(r.AgentId, r.TeamId, agents[r.AgentId].Adapter, agents[r.AgentId].ConfigJson)).ToList();
    }

    public async Task<(ClaimOutcome Outcome, ClaimedTurn? Turn)> TryClaimAsync(ClaimCandidate c, CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var o = options.Value;
        // The team's DAG lock (PostgreSQL): serialises this claim with the team's other claims and task
        // transitions on every node, so two nodes cannot both take the team's last concurrency slot.
        await using var tx = await TaskTransaction.BeginAsync(db, c.TeamId, ct);
        var team = await db.Teams.AsNoTracking().FirstOrDefaultAsync(t => t.Id == c.TeamId, ct);
        if (team is null) return (ClaimOutcome.NothingPending, null);
        if (team.MaxConcurrentAgents is { } limit &&
            await db.Turns.CountAsync(t => t.TeamId == c.TeamId && t.State == TurnState.Running, ct) >= limit)
            return (ClaimOutcome.TeamAtConcurrencyLimit, null);
        if (team.DailyCostLimitUsd is { } cap && await budget.SpentTodayAsync(db, c.TeamId, ct) >= cap)
            return (ClaimOutcome.TeamOverBudget, null);
        if (await db.Turns.AnyAsync(t => t.AgentId == c.AgentId && t.State == TurnState.Running, ct))
            return (ClaimOutcome.AgentBusy, null);

        var turnId = Guid.CreateVersion7();
        var lease = now + o.Lease;
        var claimed = db.IsPostgres
            ? await ClaimPostgresAsync(db, tx, node.Id, c.AgentId, turnId, lease, now, ct)
            : await db.DispatchRequests.Where(d => d.AgentId == c.AgentId && d.State == DispatchState.Pending)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(d => d.State, DispatchState.Claimed)
                    .SetProperty(d => d.Owner, node.Id)
                    .SetProperty(d => d.LeaseUntil, lease)
                    .SetProperty(d => d.TurnId, turnId)
                    .SetProperty(d => d.UpdatedAt, now), ct);
        if (claimed == 0) return (ClaimOutcome.NothingPending, null);

        var requests = await db.DispatchRequests.AsNoTracking().Where(d => d.TurnId == turnId).OrderBy(d => d.Id).ToListAsync(ct);
        var taskId = await PickTaskAsync(db, c.AgentId, requests, ct);
        var (token, hash, _) = TurnTokens.Mint();
        var turn = new Turn
        {
            Id = turnId,
            AgentId = c.AgentId,
            TeamId = c.TeamId,
            TaskId = taskId,
            State = TurnState.Running,
            Node = node.Id,
            Attempt = requests.Max(r => r.Attempts) + 1,
            StartedAt = now,
            HeartbeatAt = now,
            LeaseUntil = lease,
            TokenHash = hash,
        };
        db.Turns.Add(turn);
        if (taskId is { } tid) await TaskHooks.OnTurnStartedAsync(db, tid, turn, requests, now, ct);
        try
        {
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        catch (DbUpdateException ex) when (IsUniqueViolation(ex))
        {
            // Another node started a turn of this agent between our check and our insert: the index said no.
            await tx.RollbackAsync(CancellationToken.None);
            LogLostRace(logger, c.AgentId);
            return (ClaimOutcome.AgentBusy, null);
        }
        catch (DbUpdateConcurrencyException)
        {
            // The task changed under us (a concurrent transition); the requests stay pending for the next pass.
            await tx.RollbackAsync(CancellationToken.None);
            return (ClaimOutcome.AgentBusy, null);
        }
        return (ClaimOutcome.Claimed, new ClaimedTurn(turn, requests, token));
    }

    /// <summary>The claim statement of DESIGN §4: every pending request of the agent, skipping rows another node holds.</summary>
    private static async Task<int> ClaimPostgresAsync(AppDbContext db, IDbContextTransaction tx, string nodeId, Guid agentId, Guid turnId, DateTime lease, DateTime now, CancellationToken ct)
    {
        await using var cmd = Command(db, tx, """
            UPDATE dispatch_requests
               SET state = 'claimed', owner = @node, lease_until = @lease, turn_id = @turn, updated_at = @now
             WHERE id IN (SELECT id FROM dispatch_requests
                           WHERE agent_id = @agent AND state = 'pending'
                           ORDER BY priority, id
                           FOR UPDATE SKIP LOCKED)
            RETURNING id
            """);
        Add(cmd, "node", nodeId);
        Add(cmd, "lease", lease);
        Add(cmd, "turn", turnId);
        Add(cmd, "now", now);
        Add(cmd, "agent", agentId);
        var n = 0;
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) n++;
        return n;
    }

    /// <summary>
    /// The task the turn works on: a ready task it was woken for, else a task named by a request, else the task
    /// the agent is already working on (a message about "the endpoint" belongs in that worktree).
    /// </summary>
    private static async Task<long?> PickTaskAsync(AppDbContext db, Guid agentId, List<DispatchRequest> requests, CancellationToken ct)
    {
        var fromRequests = requests.Where(r => r.Reason == DispatchReason.TaskReady && r.TaskId is not null).Select(r => r.TaskId)
            .Concat(requests.Where(r => r.TaskId is not null).Select(r => r.TaskId)).FirstOrDefault();
        if (fromRequests is not null) return fromRequests;
        return await db.Tasks.Where(t => t.AssigneeId == agentId && t.Status == TaskState.InProgress)
            .OrderByDescending(t => t.StartedAt).Select(t => (long?)t.Id).FirstOrDefaultAsync(ct);
    }

    internal static DbCommand Command(AppDbContext db, IDbContextTransaction? tx, string sql)
    {
        var cmd = db.Database.GetDbConnection().CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx?.GetDbTransaction();
        return cmd;
    }

    internal static void Add(DbCommand cmd, string name, object? value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value ?? DBNull.Value;
        cmd.Parameters.Add(p);
    }

    internal static bool IsUniqueViolation(DbUpdateException ex) => ex.InnerException switch
    {
        PostgresException pg => pg.SqlState == PostgresErrorCodes.UniqueViolation,
        Microsoft.Data.Sqlite.SqliteException s => s.SqliteErrorCode == 19,
        _ => false,
    };

    [LoggerMessage(Level = LogLevel.Debug, Message = "Agent {AgentId} already has a running turn on another node; claim rolled back.")]
    private static partial void LogLostRace(ILogger logger, Guid agentId);
}

/// <summary>
/// Per-turn bearer credentials. The agent's own token is shown once at creation and stored only hashed, so each
/// turn gets a fresh one: <c>ent_turn_</c> + 32 random bytes (base64url), stored in <c>turns.token_hash</c> as
/// <see cref="AgentTokens.Hash"/> (SHA-256, lower-case hex). Valid while that turn's state is running.
/// </summary>
public static class TurnTokens
{
    public const string Prefix = "ent_turn_";

    public static (string Token, string Hash, string DisplayPrefix) Mint()
    {
        var token = Prefix + Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (token, AgentTokens.Hash(token), token[..(Prefix.Length + 6)]);
    }

    /// <summary>The agent a running turn's token stands for, or null (unknown token or turn no longer running).</summary>
    public static async Task<Turn?> FindRunningAsync(AppDbContext db, string token, CancellationToken ct)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var hash = AgentTokens.Hash(token);
        return await db.Turns.AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == hash && t.State == TurnState.Running, ct);
    }
}
