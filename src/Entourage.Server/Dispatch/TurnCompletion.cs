using Entourage.Client.Contracts;
using Entourage.Server.Agents;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Dispatch;

/// <summary>What happens to a turn's requests when it ends.</summary>
public enum RequestFate
{
    /// <summary>Handled: the requests are done.</summary>
    Done,

    /// <summary>The run failed: try again (attempt + 1), or give up after max attempts and fail the task.</summary>
    Retry,

    /// <summary>Not handled through no fault of the work (shutdown, budget): back to pending, same attempt.</summary>
    Requeue,
}

public sealed record TurnOutcome(TurnState State, RequestFate Fate, int? ExitCode, string? Error, TurnUsage? Usage, string? SessionId);

/// <summary>
/// Ends turns exactly once. The turn's state moves from running only through a conditional update
/// (<c>WHERE state = 'running'</c>), so of a completion, a cancel and a lease sweep racing for one turn, one wins;
/// the others are no-ops recorded as an event, never a second transition.
/// </summary>
public sealed partial class TurnCompletion(
    IDbContextFactory<AppDbContext> factory,
    ChangeInterceptor changes,
    IOptions<DispatchOptions> options,
    TimeProvider clock,
    ILogger<TurnCompletion> logger)
{
    /// <summary>True when this call ended the turn; false when it had already ended (a late duplicate).</summary>
    public async Task<bool> CompleteAsync(Turn turn, TurnOutcome outcome, CancellationToken ct)
    {
        await using var db = await factory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var usage = outcome.Usage;
        await using var tx = await TaskTransaction.BeginAsync(db, turn.TeamId, ct);
        var ended = await db.Turns.Where(t => t.Id == turn.Id && t.State == TurnState.Running).ExecuteUpdateAsync(s => s
            .SetProperty(t => t.State, outcome.State)
            .SetProperty(t => t.EndedAt, now)
            .SetProperty(t => t.ExitCode, outcome.ExitCode)
            .SetProperty(t => t.Error, outcome.Error)
            .SetProperty(t => t.SessionId, t => outcome.SessionId ?? t.SessionId)
            .SetProperty(t => t.InputTokens, usage == null ? 0 : usage.InputTokens)
            .SetProperty(t => t.OutputTokens, usage == null ? 0 : usage.OutputTokens)
            .SetProperty(t => t.CacheReadTokens, usage == null ? 0 : usage.CacheReadTokens)
            .SetProperty(t => t.CacheWriteTokens, usage == null ? 0 : usage.CacheWriteTokens)
            .SetProperty(t => t.CostUsd, usage == null ? 0 : usage.CostUsd), ct);

        if (ended == 0)
        {
            // Someone else ended it (cancel, lease sweep). Keep what this run cost, but change nothing else.
            if (turn.TaskId is { } late)
                await TaskHooks.AddEventAsync(db, late, "late_completion", now, new { agent_id = turn.AgentId, turn_id = turn.Id, state = EnumNames.ToSnake(outcome.State), exit_code = outcome.ExitCode }, ct);
            RecordUsage(db, turn, usage, now);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            LogLate(logger, turn.Id);
            return false;
        }

        await SettleRequestsAsync(db, turn.Id, turn.TaskId, turn.AgentId, outcome.Fate, outcome.Error, now, ct);
        RecordUsage(db, turn, usage, now);
        if (turn.TaskId is { } taskId)
        {
            if (usage is { IsEmpty: false })
                await TaskHooks.AddEventAsync(db, taskId, "usage", now, new { turn_id = turn.Id, agent_id = turn.AgentId, usage.InputTokens, usage.OutputTokens, usage.CacheReadTokens, usage.CacheWriteTokens, usage.CostUsd, usage.Model }, ct);
            await TaskHooks.AddEventAsync(db, taskId, "turn_ended", now, new { turn_id = turn.Id, agent_id = turn.AgentId, state = EnumNames.ToSnake(outcome.State), exit_code = outcome.ExitCode, error = outcome.Error }, ct);
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        changes.PublishRaw("turn", turn.Id.ToString(), turn.TeamId, "modified");
        changes.PublishRaw("dispatch_request", turn.Id.ToString(), turn.TeamId, "modified");
        return true;
    }

    /// <summary>
    /// Settles the requests a turn held: done, back to pending, or (past max attempts) dead with the task failed.
    /// Shared with the lease sweeper, which retries the work of turns whose node died.
    /// </summary>
    public async Task SettleRequestsAsync(AppDbContext db, Guid turnId, long? taskId, Guid agentId, RequestFate fate, string? error, DateTime now, CancellationToken ct)
    {
        var requests = await db.DispatchRequests.Where(d => d.TurnId == turnId && d.State == DispatchState.Claimed).ToListAsync(ct);
        var max = Math.Max(1, options.Value.MaxAttempts);
        var gaveUp = new List<DispatchRequest>();
        foreach (var r in requests)
        {
            r.UpdatedAt = now;
            switch (fate)
            {
                case RequestFate.Done:
                    r.State = DispatchState.Done;
                    break;
                case RequestFate.Requeue:
                    Release(r, error);
                    break;
                case RequestFate.Retry:
                    r.Attempts++;
                    if (r.Attempts >= max)
                    {
                        r.State = DispatchState.Dead;
                        r.LastError = error;
                        gaveUp.Add(r);
                    }
                    else Release(r, error);
                    break;
            }
        }
        if (gaveUp.Count == 0) return;
        var reason = $"Gave up after {max} attempts: {error ?? "the agent's turn failed"}";
        foreach (var t in gaveUp.Where(r => r.TaskId is not null).Select(r => r.TaskId!.Value).Append(taskId ?? 0).Where(t => t != 0).Distinct())
            await TaskHooks.FailAsync(db, t, reason, now, ct);
    }

    private static void Release(DispatchRequest r, string? error)
    {
        r.State = DispatchState.Pending;
        r.Owner = null;
        r.LeaseUntil = null;
        r.TurnId = null;
        r.LastError = error;
    }

    private static void RecordUsage(AppDbContext db, Turn turn, TurnUsage? usage, DateTime now)
    {
        if (usage is null || usage.IsEmpty) return;
        db.UsageRecords.Add(new UsageRecord
        {
            TeamId = turn.TeamId,
            AgentId = turn.AgentId,
            TaskId = turn.TaskId,
            TurnId = turn.Id,
            Model = usage.Model,
            InputTokens = usage.InputTokens,
            OutputTokens = usage.OutputTokens,
            CacheReadTokens = usage.CacheReadTokens,
            CacheWriteTokens = usage.CacheWriteTokens,
            CostUsd = usage.CostUsd,
            Day = DateOnly.FromDateTime(now),
            CreatedAt = now,
        });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Turn {TurnId} had already ended; its late completion changed nothing.")]
    private static partial void LogLate(ILogger logger, Guid turnId);
}
