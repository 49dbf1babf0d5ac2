using Entourage.Client.Contracts;
using Entourage.Server.Features.Agents;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Entourage.Server.Dispatch;

/// <summary>
/// An agent with pending work and no running turn (as of the read; the claim re-checks), and whether any of that
/// work names a task (the claim then writes the task's row and timeline; unknown counts as yes).
/// </summary>
public sealed record ClaimCandidate(Guid AgentId, Guid TeamId, string Adapter = "command", string ConfigJson = "{}", bool TaskWork = true);

/// <summary>A turn this node just started: its row, the requests it took, and its plaintext per-turn token.</summary>
public sealed record ClaimedTurn(Turn Turn, IReadOnlyList<DispatchRequest> Requests, string Token);

/// <summary>Who claims: this node (its id and configured labels), or an HTTP runner's node on whose behalf the server claims.</summary>
public sealed record ClaimingNode(string Id, IReadOnlySet<string> Labels);

public enum ClaimOutcome { Claimed, NothingPending, AgentBusy, TeamAtConcurrencyLimit, TeamOverBudget, GlobalAtConcurrencyLimit }

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
    TimeProvider clock,
    ILogger<Claimer> logger)
{
    /// <summary>Advisory lock key of the cluster-wide limit (any constant distinct from the per-team keys' usual values).</summary>
    private const long GlobalLimitLockKey = 0x456E746F75726167; // "Entourag"

    /// <summary>The labels this node offers; placement (issue #10) only lets it claim agents pinned to a subset of them.</summary>
    private readonly HashSet<string> _labels = [.. Runners.NodeLabels.Parse(Runners.NodeLabels.FromConfig(options.Value.Labels))];

    /// <summary>
    /// Agents with pending requests and no running turn, oldest work first (lower priority value first), with the
    /// agent's adapter, in one query: the dispatcher runs it on every wake-up.
    /// </summary>
    public Task<List<ClaimCandidate>> CandidatesAsync(int max, CancellationToken ct) => CandidatesAsync(Self, max, ct);

    /// <summary>This node as a claimer.</summary>
    public ClaimingNode Self => new(node.Id, _labels);

    /// <inheritdoc cref="CandidatesAsync(int, CancellationToken)"/>
    public async Task<List<ClaimCandidate>> CandidatesAsync(ClaimingNode who, int max, CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        return await CandidatesAsync(db, who, max, ct);
    }

    /// <inheritdoc cref="CandidatesAsync(int, CancellationToken)"/>
    /// <remarks>On the caller's context: a dispatcher pass runs its query and its claims on one context and connection.</remarks>
    public async Task<List<ClaimCandidate>> CandidatesAsync(AppDbContext db, ClaimingNode who, int max, CancellationToken ct)
    {
        var unpinnedOnly = who.Labels.Count == 0;
        var rows = await ClaimQueries.CandidatesAsync(db, unpinnedOnly, max, ct);
        // A labelled node also sees pinned agents: only those whose labels it has all of.
        return rows.Where(r => unpinnedOnly || Runners.NodeLabels.Satisfies((IReadOnlyCollection<string>)who.Labels, Runners.NodeLabels.Required(r.TeamLabels, r.AgentLabels)))
            .Select(r => new ClaimCandidate(r.AgentId, r.TeamId, r.Adapter, r.ConfigJson, r.TaskWork)).ToList();
    }

    /// <summary>
    /// On PostgreSQL, a team without limits: one round trip (<see cref="QuickClaim"/>). Otherwise, or when that
    /// statement's conditions do not hold, one transaction: the team's lock (PostgreSQL), one query for the limits
    /// and the agent's running turn, one statement that claims the agent's pending requests and returns them, then
    /// the turn row and the task's move to in_progress with its timeline entries. Nothing is read twice.
    /// </summary>
    public Task<(ClaimOutcome Outcome, ClaimedTurn? Turn)> TryClaimAsync(ClaimCandidate c, CancellationToken ct) => TryClaimAsync(Self, c, ct);

    /// <inheritdoc cref="TryClaimAsync(ClaimCandidate, CancellationToken)"/>
    public async Task<(ClaimOutcome Outcome, ClaimedTurn? Turn)> TryClaimAsync(ClaimingNode who, ClaimCandidate c, CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        return await TryClaimAsync(db, who, c, ct);
    }

    /// <inheritdoc cref="TryClaimAsync(ClaimCandidate, CancellationToken)"/>
    /// <remarks>On the caller's context, which may have run earlier claims: whatever they left tracked is dropped first.</remarks>
    public async Task<(ClaimOutcome Outcome, ClaimedTurn? Turn)> TryClaimAsync(AppDbContext db, ClaimingNode who, ClaimCandidate c, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        if (db.IsPostgres && options.Value.GlobalMaxConcurrentAgents is null)
        {
            try
            {
                if (await QuickClaim.TryAsync(db, who.Id, c, options.Value.Lease, clock.GetUtcNow().UtcDateTime, ct) is ({ } quick, var quickChanges))
                {
                    Publish(db, quick, quickChanges);
                    return (ClaimOutcome.Claimed, quick);
                }
            }
            catch (Exception ex) when (IsUniqueViolation(ex))
            {
                LogLostRace(logger, c.AgentId);
                return (ClaimOutcome.AgentBusy, null);
            }
        }
        // The team's DAG lock (PostgreSQL): serialises this claim with the team's other claims and task
        // transitions on every node, so two nodes cannot both take the team's last concurrency slot.
        await using var tx = await TaskTransaction.BeginAsync(db, c.TeamId, ct);
        try
        {
            var (outcome, claimed, taskChanges) = await ClaimInTransactionAsync(db, who, c, ct);
            if (claimed is null) return (outcome, null);
            await tx.CommitAsync(ct);
            Publish(db, claimed, taskChanges);
            return (outcome, claimed);
        }
        catch (Exception ex) when (IsUniqueViolation(ex))
        {
            // Another node started a turn of this agent between our check and our insert: the index said no.
            await tx.RollbackAsync(CancellationToken.None);
            LogLostRace(logger, c.AgentId);
            return (ClaimOutcome.AgentBusy, null);
        }
    }

    /// <summary>What a claim publishes after its commit, in the full path's order: the turn, then the task's move and entries.</summary>
    internal static void Publish(AppDbContext db, ClaimedTurn claimed, List<TaskWrites.Change>? taskChanges)
    {
        db.Changes().PublishRaw("turn", claimed.Turn.Id.ToString(), claimed.Turn.TeamId, "added");
        TaskWrites.Publish(db, taskChanges);
    }

    /// <summary>
    /// The full path's claim inside the caller's transaction, which holds the team's lock on PostgreSQL (SQLite: its
    /// BEGIN IMMEDIATE made it the only writer): the limits gate, the claim of the agent's pending requests, the turn
    /// row and the task's start. The caller commits, then publishes (<see cref="Publish"/>); a unique violation of
    /// the one-running-turn index surfaces from the turn's insert or the commit. A write on this node that gives an
    /// agent work claims its turn this way before committing (<see cref="TurnSlots.Reserve"/>).
    /// </summary>
    internal async Task<(ClaimOutcome Outcome, ClaimedTurn? Turn, List<TaskWrites.Change>? TaskChanges)> ClaimInTransactionAsync(
        AppDbContext db, ClaimingNode who, ClaimCandidate c, CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var gate = await ClaimQueries.GateAsync(db, c.TeamId, c.AgentId, today, ct);
        if (gate is null) return (ClaimOutcome.NothingPending, null, null);
        if (gate.MaxConcurrentAgents is { } limit && gate.Running >= limit) return (ClaimOutcome.TeamAtConcurrencyLimit, null, null);
        if (gate.DailyCostLimitUsd is { } cap && gate.Spent >= cap) return (ClaimOutcome.TeamOverBudget, null, null);
        if (gate.AgentBusy) return (ClaimOutcome.AgentBusy, null, null);
        if (options.Value.GlobalMaxConcurrentAgents is { } global)
        {
            // The cluster-wide limit: one lock for every node's claims (taken after the team's, always in that
            // order), so two nodes cannot both take the last slot. Only paid for when the limit is configured.
            if (db.IsPostgres) await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({GlobalLimitLockKey})", ct);
            if (await db.Turns.CountAsync(t => t.State == TurnState.Running, ct) >= global)
                return (ClaimOutcome.GlobalAtConcurrencyLimit, null, null);
        }

        // The start time is read under the lock: a turn that ended before this claim could take its slot has an
        // earlier end time, so start/end times never show more turns at once than the limit allowed.
        var now = clock.GetUtcNow().UtcDateTime;
        var turnId = Guid.CreateVersion7();
        var lease = now + options.Value.Lease;
        var requests = await ClaimQueries.ClaimRequestsAsync(db, who.Id, c.AgentId, turnId, lease, now, ct);
        if (requests.Count == 0) return (ClaimOutcome.NothingPending, null, null);

        var taskId = PickTask(requests, gate.CurrentTask, oneAtATime: !gate.Manager);
        requests = await ReleaseOtherReadyTasksAsync(db, taskId, requests, oneAtATime: !gate.Manager, ct);
        // Only held wake-ups (ClaimQueries.HeldSql: a write on this node claims without the candidates query, which
        // leaves them out): back to pending, no turn. The caller's transaction keeps them so.
        if (requests.Count == 0) return (ClaimOutcome.NothingPending, null, null);
        var (token, hash, _) = TurnTokens.Mint();
        var turn = ClaimQueries.RunningTurn(turnId, c, taskId, who.Id, requests.Max(r => r.Attempts) + 1, now, lease, hash);
        // The turn row, the task's move and its timeline entries are written by hand (ClaimQueries, TaskHooks) and
        // published by the caller after its commit. The move re-checks its conditions in its own UPDATE.
        await ClaimQueries.InsertTurnAsync(db, turn, ct);
        var taskChanges = taskId is { } tid ? await TaskHooks.OnTurnStartedAsync(db, tid, turn, requests, now, ct) : null;
        return (ClaimOutcome.Claimed, new ClaimedTurn(turn, requests, token), taskChanges);
    }

    /// <summary>How many turns this node started on a hint, without a candidates query (diagnostics; tests check the path is taken).</summary>
    public long ExpectedClaims => Interlocked.Read(ref _expectedClaims);

    private long _expectedClaims;

    /// <summary>
    /// A claim for an agent a write on this node said was about to get task work (<see cref="Doorbell.Expect"/>),
    /// without the candidates query: on PostgreSQL, a node without labels and no cluster-wide limit, the team's lock
    /// and one statement that checks what that query and the claim would (pending work, no running turn, no team
    /// limits, placement), moves the task and writes its timeline, made only while the agent still runs as
    /// <paramref name="launch"/> says (the caller has found that CLI installed here), so nothing has to be given back.
    /// Anything else that is not the common case changes nothing and is left to the pass's candidates query.
    /// </summary>
    public async Task<ClaimedTurn?> TryExpectedAsync(AppDbContext db, Guid agentId, Guid teamId, AgentLaunch launch, CancellationToken ct)
    {
        if (!db.IsPostgres || options.Value.GlobalMaxConcurrentAgents is not null || _labels.Count > 0) return null;
        db.ChangeTracker.Clear();
        var now = clock.GetUtcNow().UtcDateTime;
        try
        {
            if (await QuickClaim.TryExpectedAsync(db, node.Id, agentId, teamId, launch, options.Value.Lease, now, ct) is not ({ } claimed, var taskChanges)) return null;
            Publish(db, claimed, taskChanges);
            Interlocked.Increment(ref _expectedClaims);
            return claimed;
        }
        catch (Exception ex) when (IsUniqueViolation(ex))
        {
            LogLostRace(logger, agentId);
            return null;
        }
    }

    /// <summary>
    /// An engineer's turn works one task: the ready work of its other tasks goes back to pending for its next turn.
    /// Consumed by this turn, it would be marked done with it and the other task never dispatched again. The
    /// manager keeps them all: it assigns every unassigned ready task in one turn.
    /// </summary>
    private static async Task<List<DispatchRequest>> ReleaseOtherReadyTasksAsync(AppDbContext db, long? taskId, List<DispatchRequest> requests, bool oneAtATime, CancellationToken ct)
    {
        var others = requests.Where(r => r.Reason == DispatchReason.TaskReady && r.TaskId is not null && r.TaskId != taskId).Select(r => r.Id).ToList();
        if (others.Count == 0 || !oneAtATime) return requests;
        await db.DispatchRequests.Where(d => others.Contains(d.Id)).ExecuteUpdateAsync(s => s
            .SetProperty(d => d.State, DispatchState.Pending)
            .SetProperty(d => d.Owner, (string?)null)
            .SetProperty(d => d.LeaseUntil, (DateTime?)null)
            .SetProperty(d => d.TurnId, (Guid?)null), ct);
        return requests.Where(r => !others.Contains(r.Id)).ToList();
    }

    /// <summary>
    /// The task the turn works on: a ready task it was woken for, else a task named by a request, else the task
    /// the agent is already working on (a message about "the endpoint" belongs in that worktree). An engineer with a
    /// task in progress (<paramref name="oneAtATime"/>) stays on it: another task's ready wake-up waits (ClaimQueries.HeldSql).
    /// </summary>
    private static long? PickTask(List<DispatchRequest> requests, long? currentTask, bool oneAtATime)
    {
        var usable = oneAtATime && currentTask is { } current
            ? requests.Where(r => r.Reason != DispatchReason.TaskReady || r.TaskId == current).ToList()
            : requests;
        return usable.Where(r => r.Reason == DispatchReason.TaskReady && r.TaskId is not null).Select(r => r.TaskId)
            .Concat(usable.Where(r => r.TaskId is not null).Select(r => r.TaskId)).FirstOrDefault() ?? currentTask;
    }

    /// <summary>A unique-index violation, raised by a hand-written statement or wrapped by EF's save.</summary>
    internal static bool IsUniqueViolation(Exception? ex) => ex switch
    {
        PostgresException pg => pg.SqlState == PostgresErrorCodes.UniqueViolation,
        Microsoft.Data.Sqlite.SqliteException s => s.SqliteErrorCode == 19,
        DbUpdateException u => IsUniqueViolation(u.InnerException),
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
