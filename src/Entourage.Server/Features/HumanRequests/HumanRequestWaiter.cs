using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.HumanRequests;

/// <summary>
/// Blocks until a human request is answered or expires (or the wait times out), woken by the change feed, never
/// by polling the database in a loop. Used by ask_human's blocking mode and by REST callers passing wait_seconds.
/// </summary>
public sealed class HumanRequestWaiter(IServiceScopeFactory scopes, ChangeFeed feed, ChangeInterceptor changes, TimeProvider clock)
{
    /// <summary>How often <paramref name="onProgress"/> runs while waiting (MCP clients abort silent calls).</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(25);

    /// <summary>
    /// Waits up to <paramref name="timeout"/>. When the answer (or the expiry) arrives here, the caller delivers it,
    /// so the human_answer turn queued for it is retired and the message marked read: the agent is not woken twice.
    /// </summary>
    public async Task<HumanRequestDto> WaitAsync(long id, TimeSpan timeout, Func<TimeSpan, Task>? onProgress, CancellationToken ct)
    {
        using var sub = feed.Subscribe();
        var started = clock.GetUtcNow();
        var deadline = started + timeout;
        while (true)
        {
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                var request = await HumanRequestViews.FindAsync(db, id, ct);
                var now = clock.GetUtcNow();
                if (request.Status == HumanRequestStatus.Pending && request.ExpiresAt is { } exp && exp <= now.UtcDateTime)
                {
                    await ExpireHumanRequests.RunAsync(db, changes, clock, ct, id);
                    await db.Entry(request).ReloadAsync(ct);
                }
                if (request.Status != HumanRequestStatus.Pending)
                {
                    await RetireTurnAsync(db, request.Id, request.AgentId, now.UtcDateTime, ct);
                    return HumanRequestViews.ToDto(request, await HumanRequestViews.AgentNameAsync(db, request.AgentId, ct));
                }
                if (now >= deadline) return HumanRequestViews.ToDto(request, await HumanRequestViews.AgentNameAsync(db, request.AgentId, ct));
                // Wake at the earliest of: the deadline, the request's expiry, the next progress report.
                var wakeAt = deadline;
                if (request.ExpiresAt is { } e && new DateTimeOffset(e) < wakeAt) wakeAt = new DateTimeOffset(e);
                if (onProgress is not null && now + ProgressInterval < wakeAt) wakeAt = now + ProgressInterval;
                var changed = await WaitForChangeAsync(sub, id, wakeAt - now, ct);
                if (!changed && onProgress is not null) await onProgress(clock.GetUtcNow() - started);
            }
        }
    }

    private async Task<bool> WaitForChangeAsync(ChangeFeed.Subscription sub, long id, TimeSpan delay, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(delay < TimeSpan.Zero ? TimeSpan.Zero : delay);
        var key = id.ToString();
        try
        {
            while (await sub.Reader.WaitToReadAsync(cts.Token))
                while (sub.Reader.TryRead(out var e))
                    if (e.Kind == "human_request" && e.Id == key) return true;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { }
        return false;
    }

    private static async Task RetireTurnAsync(AppDbContext db, long requestId, Guid? agentId, DateTime now, CancellationToken ct)
    {
        if (agentId is null) return;
        // The answer's (or expiry's) message names the question: "… your question #12 (…".
        var pattern = $"%question #{requestId} (%";
        var notes = await db.Messages.Where(m => m.RecipientId == agentId && m.ReadAt == null && m.SenderId == null && EF.Functions.Like(m.Body, pattern)).ToListAsync(ct);
        if (notes.Count == 0) return;
        var refs = notes.Select(m => m.Id.ToString()).ToList();
        var pending = await db.DispatchRequests
            .Where(r => r.AgentId == agentId && r.Reason == DispatchReason.HumanAnswer && r.State == DispatchState.Pending && refs.Contains(r.Ref!))
            .ToListAsync(ct);
        foreach (var r in pending)
        {
            r.State = DispatchState.Done;
            r.LastError = "delivered to the waiting ask_human call";
            r.UpdatedAt = now;
        }
        foreach (var m in notes) m.ReadAt = now;
        await db.SaveChangesAsync(ct);
    }
}
