using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Dispatch;

/// <summary>
/// The database side of a running turn, whoever runs it: this node's dispatcher (through <see cref="DbTurnSink"/>)
/// or an HTTP runner (through the runner protocol endpoints). One implementation, so leases, logs, budget stops,
/// pushes and completions behave the same for every kind of node.
/// </summary>
public sealed partial class TurnLedger(
    IDbContextFactory<AppDbContext> factory,
    ChangeInterceptor changes,
    TurnCompletion completion,
    BudgetGuard budget,
    IOptions<DispatchOptions> options,
    TimeProvider clock,
    ILogger<TurnLedger> logger)
{
    public async Task SetWorkspaceAsync(Guid turnId, long? taskId, string workingDirectory, string? worktreePath, string? branch, CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        await db.Turns.Where(t => t.Id == turnId).ExecuteUpdateAsync(s => s.SetProperty(t => t.WorkingDirectory, workingDirectory), ct);
        if (taskId is { } id && worktreePath is not null && branch is not null)
            await db.Tasks.Where(t => t.Id == id && (t.WorktreePath != worktreePath || t.Branch != branch)).ExecuteUpdateAsync(s => s
                .SetProperty(t => t.WorktreePath, worktreePath)
                .SetProperty(t => t.Branch, branch), ct);
    }

    /// <summary>Appends output to the log, up to Dispatch:MaxLogChars; false when the turn does not exist.</summary>
    public async Task<bool> AppendLogAsync(Guid turnId, Guid teamId, string chunk, CancellationToken ct)
    {
        if (chunk.Length == 0) return true;
        var max = options.Value.MaxLogChars;
        await using var db = await factory.CreateDbContextAsync(ct);
        var n = await db.Turns.Where(t => t.Id == turnId && t.Log.Length + chunk.Length <= max)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.Log, t => t.Log + chunk), ct);
        // Over the cap the chunk is dropped: the writer caps its own output first and notes the truncation.
        if (n == 0) return await db.Turns.AnyAsync(t => t.Id == turnId, ct);
        changes.PublishRaw("turn", turnId.ToString(), teamId, "log");
        return true;
    }

    /// <summary>
    /// One heartbeat of a turn: renews its lease and its requests' leases. Null while it may go on; a stop when the
    /// store no longer has it running (cancelled, or swept after its lease ran out) or its team is over budget.
    /// </summary>
    public async Task<TurnStop?> BeatAsync(Guid turnId, Guid teamId, long? taskId, CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var lease = now + options.Value.Lease;
        var alive = await db.Turns.Where(t => t.Id == turnId && t.State == TurnState.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.HeartbeatAt, now).SetProperty(t => t.LeaseUntil, lease), ct);
        if (alive == 0) return new TurnStop(StopKind.External, "The turn was ended elsewhere (cancelled, or its lease expired).");
        await db.DispatchRequests.Where(d => d.TurnId == turnId && d.State == DispatchState.Claimed)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.LeaseUntil, lease), ct);
        if (await budget.OverBudgetReasonAsync(db, teamId, ct) is { } reason)
        {
            await budget.EnsureHumanRequestAsync(db, teamId, taskId, reason, now, ct);
            if (taskId is { } id) await TaskHooks.AddEventAsync(db, id, "budget_exceeded", now, new { turn_id = turnId, reason }, ct);
            await db.SaveChangesAsync(ct);
            return new TurnStop(StopKind.Budget, reason);
        }
        return null;
    }

    /// <summary>
    /// Records what a node pushed at the end of a turn: a <c>branch_pushed</c> task event (and an open review's diff
    /// brought up to the pushed head, since the server could only see what had been pushed when it was recorded),
    /// or a <c>branch_push_failed</c> event with the reason.
    /// </summary>
    public async Task RecordPublicationAsync(Turn turn, TurnPublication pub, CancellationToken ct)
    {
        if (turn.TaskId is not { } taskId) return;
        await using var db = await factory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        if (pub.Head is null)
        {
            await TaskHooks.AddEventAsync(db, taskId, "branch_push_failed", now, new { turn_id = turn.Id, node = turn.Node, branch = pub.Branch, error = pub.Error }, ct);
            await db.SaveChangesAsync(ct);
            LogPushFailed(logger, pub.Branch, turn.Node, pub.Error ?? "");
            return;
        }
        await TaskHooks.AddEventAsync(db, taskId, "branch_pushed", now, new { turn_id = turn.Id, node = turn.Node, branch = pub.Branch, head = pub.Head }, ct);
        var task = await db.Tasks.AsNoTracking().FirstOrDefaultAsync(t => t.Id == taskId, ct);
        var review = task?.Status == TaskState.InReview
            ? await db.Reviews.Where(r => r.TaskId == taskId).OrderByDescending(r => r.Id).FirstOrDefaultAsync(ct)
            : null;
        if (review is not null && review.HeadSha != pub.Head && review.State != ReviewState.ChangesRequested && pub.Diff is not null)
        {
            review.Diff = Merging.BranchDiff.Truncate(pub.Diff, Features.Reviews.RequestReview.MaxStoredDiff);
            review.BaseSha = pub.BaseSha ?? review.BaseSha;
            review.HeadSha = pub.Head;
        }
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// Ends the turn through <see cref="TurnCompletion"/> (the same path for every node). A push that failed turns a
    /// success into a failure with the reason, so the work is retried instead of landing a stale branch.
    /// True when this call ended the turn; false for a late or duplicate completion, which changes nothing.
    /// </summary>
    public async Task<bool> CompleteAsync(Turn turn, TurnOutcome outcome, TurnPublication? published, CancellationToken ct)
    {
        if (published is not null)
        {
            var stillRunning = await IsRunningAsync(turn.Id, ct);
            if (stillRunning) await RecordPublicationAsync(turn, published, ct);
            if (published.Head is null && outcome.State == TurnState.Succeeded)
                outcome = outcome with
                {
                    State = TurnState.Failed,
                    Fate = RequestFate.Retry,
                    Error = $"The turn's work could not be pushed to the team's remote ({published.Branch}): {published.Error}",
                };
        }
        return await completion.CompleteAsync(turn, outcome, ct);
    }

    private async Task<bool> IsRunningAsync(Guid turnId, CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        return await db.Turns.AnyAsync(t => t.Id == turnId && t.State == TurnState.Running, ct);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not push {Branch} to the team's remote from node {Node}: {Error}")]
    private static partial void LogPushFailed(ILogger logger, string branch, string node, string error);
}
