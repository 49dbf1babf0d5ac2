using Entourage.Client.Contracts;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Dispatch;

/// <summary>
/// Runs on every node each heartbeat interval: heartbeats this node's row, marks silent nodes lost, and returns
/// the work of turns whose lease ran out (their node died) to pending with attempt + 1, or dead after max
/// attempts with the task failed. Claimed requests whose turn never got going are released the same way.
/// On SQLite the store belongs to this one process (a file lock guarantees it), so at startup the turns a previous
/// server process left running are known dead and are returned at once, without waiting out their lease; on
/// PostgreSQL the same holds for the turns of this node's stable name's predecessors (<see cref="NodeNameLock"/>).
/// </summary>
public sealed partial class LeaseSweeper(
    IDbContextFactory<AppDbContext> factory,
    TurnCompletion completion,
    ChangeInterceptor changes,
    NodeIdentity node,
    LocalTurns local,
    IOptions<DispatchOptions> options,
    IOptions<StorageOptions> storage,
    TimeProvider clock,
    ILogger<LeaseSweeper> logger) : LoopService(logger, clock)
{
    private DateTime _startedAt;

    protected override async Task BeforeLoopAsync(CancellationToken ct)
    {
        _startedAt = Clock.GetUtcNow().UtcDateTime;
        await HeartbeatNodeAsync(ct);
        if (!storage.Value.UsePostgres) await RecoverPredecessorTurnsAsync(ct);
        else if (node.StableName is { } name) await RecoverNamedPredecessorsAsync(name, ct);
    }

    /// <summary>
    /// PostgreSQL, this process holding its stable name (NodeNameLock): turns left running under ids with that name
    /// belonged to dead predecessors; same rules as an expired lease, without waiting for it. A failure here only
    /// leaves them to their lease, so it must not stop the sweeper.
    /// </summary>
    private async Task RecoverNamedPredecessorsAsync(string name, CancellationToken ct)
    {
        try
        {
            List<Turn> orphaned;
            await using (var db = await factory.CreateDbContextAsync(ct))
                orphaned = await NamedPredecessor.RunningTurnsAsync(db, name, node.Id, ct);
            var returned = 0;
            foreach (var t in orphaned)
                if (await SweepAsync(t, NamedPredecessor.Error(t.Node, name), leaseExpired: false, ct)) returned++;
            await using (var db = await factory.CreateDbContextAsync(ct))
            {
                if (await NamedPredecessor.ReleaseClaimsAsync(db, name, node.Id, Clock.GetUtcNow().UtcDateTime, ct) > 0)
                    changes.PublishRaw("dispatch_request", "", null, "modified");
                await NamedPredecessor.MarkLostAsync(db, name, node.Id, ct);
            }
            if (returned > 0) LogRecoveredNamed(logger, returned, name);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogNamedRecoveryFailed(logger, name, ex.Message);
        }
    }

    /// <summary>
    /// SQLite: a turn still running at startup belonged to a server process that died (crash, SIGKILL, power loss);
    /// no other process can be running it. Same rules as an expired lease (attempt + 1, dead after max attempts).
    /// Turns of runner nodes are left to their lease: a runner lives apart from the server and may still run them.
    /// </summary>
    private async Task RecoverPredecessorTurnsAsync(CancellationToken ct)
    {
        List<Turn> orphaned;
        await using (var db = await factory.CreateDbContextAsync(ct))
        {
            var runners = db.Nodes.Where(n => n.Role == "runner").Select(n => n.Id);
            orphaned = await db.Turns.AsNoTracking()
                .Where(t => t.State == TurnState.Running && t.Node != node.Id && !runners.Contains(t.Node))
                .ToListAsync(ct);
        }
        foreach (var t in orphaned)
        {
            var error = $"The server process that ran this turn ({t.Node}) ended without a clean stop; this server owns the SQLite store alone, so the work was returned at its start for another attempt.";
            await SweepAsync(t, error, leaseExpired: false, ct);
        }
        if (orphaned.Count > 0) LogRecovered(logger, orphaned.Count);
    }

    protected override async Task<bool> IterateAsync(CancellationToken ct)
    {
        await HeartbeatNodeAsync(ct);
        var swept = 0;
        await using var db = await factory.CreateDbContextAsync(ct);
        var now = Clock.GetUtcNow().UtcDateTime;
        var expired = await db.Turns.AsNoTracking()
            .Where(t => t.State == TurnState.Running && t.LeaseUntil < now)
            .OrderBy(t => t.LeaseUntil).Take(100).ToListAsync(ct);
        foreach (var t in expired)
        {
            if (await SweepAsync(t, ct)) swept++;
        }
        await ReleaseOrphanClaimsAsync(ct);
        return swept > 0 && swept == 100;
    }

    protected override Task WaitAsync(CancellationToken ct) => Task.Delay(options.Value.Heartbeat, Clock, ct);

    private Task<bool> SweepAsync(Turn turn, CancellationToken ct) =>
        SweepAsync(turn, $"Node {turn.Node} stopped heartbeating (lease expired at {turn.LeaseUntil:O}); the work was returned for another attempt.", leaseExpired: true, ct);

    /// <summary>Ends a dead node's turn as lost and retries its work, unless it ended (or, for a lease, was renewed) meanwhile.</summary>
    private async Task<bool> SweepAsync(Turn turn, string error, bool leaseExpired, CancellationToken ct)
    {
        // A turn of this node that is still running here is alive; only its heartbeat was late.
        if (turn.Node == node.Id && local.TryGet(turn.Id, out _)) return false;
        await using var db = await factory.CreateDbContextAsync(ct);
        var now = Clock.GetUtcNow().UtcDateTime;
        await using var tx = await TaskTransaction.BeginAsync(db, turn.TeamId, ct);
        var n = await db.Turns.Where(t => t.Id == turn.Id && t.State == TurnState.Running && (!leaseExpired || t.LeaseUntil < now))
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.State, TurnState.Lost).SetProperty(t => t.EndedAt, now).SetProperty(t => t.Error, error), ct);
        if (n == 0) return false;
        await completion.SettleRequestsAsync(db, turn.Id, turn.TaskId, turn.AgentId, RequestFate.Retry, error, now, ct);
        if (turn.TaskId is { } taskId)
            await TaskHooks.AddEventAsync(db, taskId, "turn_lost", now, new { agent_id = turn.AgentId, turn_id = turn.Id, node = turn.Node, error }, ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        changes.PublishRaw("turn", turn.Id.ToString(), turn.TeamId, "modified");
        changes.PublishRaw("dispatch_request", turn.Id.ToString(), turn.TeamId, "modified");
        LogSwept(logger, turn.Id, turn.Node);
        return true;
    }

    /// <summary>Claims are made in the same transaction as their turn, so a claim without a running turn is debris.</summary>
    private async Task ReleaseOrphanClaimsAsync(CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        var now = Clock.GetUtcNow().UtcDateTime;
        var n = await db.DispatchRequests
            .Where(d => d.State == DispatchState.Claimed && d.LeaseUntil < now && !db.Turns.Any(t => t.Id == d.TurnId && t.State == TurnState.Running))
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.State, DispatchState.Pending).SetProperty(d => d.Owner, (string?)null)
                .SetProperty(d => d.TurnId, (Guid?)null).SetProperty(d => d.LeaseUntil, (DateTime?)null).SetProperty(d => d.UpdatedAt, now), ct);
        if (n > 0) changes.PublishRaw("dispatch_request", "", null, "modified");
    }

    private async Task HeartbeatNodeAsync(CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        var now = Clock.GetUtcNow().UtcDateTime;
        var o = options.Value;
        var updated = await db.Nodes.Where(x => x.Id == node.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.HeartbeatAt, now).SetProperty(x => x.Lost, false), ct);
        if (updated == 0)
        {
            db.Nodes.Add(new Node
            {
                Id = node.Id,
                Role = o.Role,
                Labels = Runners.NodeLabels.FromConfig(o.Labels),
                Host = Environment.MachineName,
                Version = NodeIdentity.Version,
                MaxConcurrentTurns = o.Enabled ? o.MaxConcurrentAgents : 0,
                StartedAt = _startedAt,
                HeartbeatAt = now,
            });
            await db.SaveChangesAsync(ct);
        }
        var silentSince = now - o.Lease;
        await db.Nodes.Where(x => !x.Lost && x.StoppedAt == null && x.HeartbeatAt < silentSince).ExecuteUpdateAsync(s => s.SetProperty(x => x.Lost, true), ct);
    }

    /// <summary>A clean stop says so (the dispatcher, stopped before this, already released its turns).</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await using var db = await factory.CreateDbContextAsync(cancellationToken);
            var now = Clock.GetUtcNow().UtcDateTime;
            await db.Nodes.Where(x => x.Id == node.Id).ExecuteUpdateAsync(s => s.SetProperty(x => x.StoppedAt, now).SetProperty(x => x.HeartbeatAt, now), cancellationToken);
        }
        catch (Exception ex)
        {
            // The database is gone too, or the host's stop timeout ran out (the drain of running turns may use it
            // all): the node will show lost instead of stopped, which is still true enough. Throwing here would make
            // the whole host stop fail.
            LogStopNotRecorded(logger, ex is OperationCanceledException ? "the shutdown timeout elapsed" : ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record this node's clean stop: {Error}")]
    private static partial void LogStopNotRecorded(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Returned the work of {Count} turn(s) a crashed predecessor left running in the SQLite store.")]
    private static partial void LogRecovered(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Returned the work of {Count} turn(s) a crashed predecessor of node {Name} left running.")]
    private static partial void LogRecoveredNamed(ILogger logger, int count, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not return the turns a crashed predecessor of node {Name} left running ({Error}); their leases will.")]
    private static partial void LogNamedRecoveryFailed(ILogger logger, string name, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Turn {TurnId} of dead node {Node} ended lost; its work was returned to pending.")]
    private static partial void LogSwept(ILogger logger, Guid turnId, string node);
}
