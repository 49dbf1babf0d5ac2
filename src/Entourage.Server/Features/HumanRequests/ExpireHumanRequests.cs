using Entourage.Client.Contracts;
using Entourage.Server.Features.Reviews;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.HumanRequests;

/// <summary>
/// Expires pending requests whose deadline passed: the request becomes expired and the agent gets a message (and
/// a turn) saying nobody answered, so it decides by itself instead of waiting forever.
/// </summary>
public static class ExpireHumanRequests
{
    /// <summary>Expires every overdue request; returns how many.</summary>
    public static async Task<int> RunAsync(AppDbContext db, ChangeInterceptor changes, TimeProvider clock, CancellationToken ct, long? onlyId = null)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var overdue = await db.HumanRequests
            .Where(h => h.Status == HumanRequestStatus.Pending && h.ExpiresAt != null && h.ExpiresAt <= now && (onlyId == null || h.Id == onlyId))
            .OrderBy(h => h.Id).Take(100).ToListAsync(ct);
        var count = 0;
        foreach (var request in overdue)
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var won = await db.HumanRequests.Where(h => h.Id == request.Id && h.Status == HumanRequestStatus.Pending)
                .ExecuteUpdateAsync(s => s.SetProperty(h => h.Status, HumanRequestStatus.Expired), ct);
            if (won == 0) continue; // answered (or expired by another node) meanwhile
            if (request.AgentId is { } agentId)
            {
                var text = $"Nobody answered your question #{request.Id} (\"{RespondToHumanRequest.Short(request.Question)}\") before it expired at {request.ExpiresAt:yyyy-MM-dd HH:mm:ss}Z. " +
                    "Proceed with your best judgement and state the assumption you made (in your work and in request_review's summary), or ask again with ask_human if you truly cannot continue.";
                await AgentNotice.AddAsync(db, request.TeamId, agentId, "entourage", request.TaskId, text, DispatchReason.HumanAnswer, now, ct);
            }
            if (request.TaskId is { } taskId)
                HumanRequestEvents.Add(db, taskId, request.TeamId, "human_request_expired", ActorType.System, null, "entourage", now, new { HumanRequestId = request.Id });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            changes.PublishRaw("human_request", request.Id.ToString(), request.TeamId, "modified");
            count++;
        }
        return count;
    }
}

/// <summary>Sweeps expired human requests every few seconds (HumanRequests:SweepSeconds, default 5).</summary>
public sealed partial class HumanRequestExpiryService(
    IServiceScopeFactory scopes, ChangeInterceptor changes, TimeProvider clock, IConfiguration config, ILogger<HumanRequestExpiryService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = TimeSpan.FromSeconds(Math.Max(1, config.GetValue("HumanRequests:SweepSeconds", 5)));
        using var timer = new PeriodicTimer(period, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                    var n = await ExpireHumanRequests.RunAsync(db, changes, clock, stoppingToken);
                    if (n > 0) LogExpired(logger, n);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The database may be briefly unreachable; the next tick tries again.
                    LogFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Expired {Count} unanswered human request(s).")]
    private static partial void LogExpired(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Expiring human requests failed; retrying on the next tick.")]
    private static partial void LogFailed(ILogger logger, Exception ex);
}
