using Entourage.Client.Contracts;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Tasks;

/// <summary>Progress of a wait, for callers that report it (the MCP tool sends it as progress notifications).</summary>
public sealed record WaitProgress(int Settled, int Total, double ElapsedSeconds, IReadOnlyList<WaitTaskState> Tasks);

/// <summary>
/// Waits server-side until every given task is terminal or can never start (POST /tasks/wait and the MCP
/// wait_for_task_completion tool). It subscribes to the <see cref="ChangeFeed"/> before reading, so a completion
/// that commits between the read and the sleep still wakes it; it re-reads only when a task of the awaited teams
/// changes. No polling: between changes it sleeps until the deadline or the next progress report. Cancelling
/// (the client went away) releases the subscription and timers at once.
/// </summary>
public sealed partial class TaskWaiter(IDbContextFactory<AppDbContext> dbs, ChangeFeed feed, TimeProvider clock, IConfiguration config, ILogger<TaskWaiter> logger)
{
    public const int MaxTasks = 500;

    /// <summary>The most <c>timeout_seconds</c> may ask for (the API's documented range is 0 to this).</summary>
    public const double MaxTimeoutSeconds = 3600;

    /// <summary>Upper bound of any wait (Api:MaxWaitSeconds, default 3600).</summary>
    public TimeSpan MaxWait => TimeSpan.FromSeconds(Math.Max(0, config.GetValue("Api:MaxWaitSeconds", 3600.0)));

    // An operator may lower Api:MaxWaitSeconds and waits are then cut short (the answer's timeout_seconds says so);
    // what callers may ask for stays the documented range, so one client works against every server.
    private double TimeoutLimit => Math.Max(MaxTimeoutSeconds, MaxWait.TotalSeconds);

    /// <summary>
    /// Checks a requested timeout: a value past the limit is refused like a negative one, since clamping it silently
    /// hid the caller's mistake (99999999 "seconds" is not a wait anyone means).
    /// </summary>
    public void CheckTimeout(double? seconds, ValidationErrors errors)
    {
        if (seconds is { } s && (double.IsNaN(s) || s < 0 || s > TimeoutLimit))
            errors.Add("timeout_seconds", $"Give a number of seconds from 0 (just report) to {TimeoutLimit:0}.");
    }

    /// <summary>How often a waiting caller hears progress even when nothing changes (Api:WaitProgressSeconds, default 20).</summary>
    public TimeSpan ProgressInterval => TimeSpan.FromSeconds(Math.Max(1, config.GetValue("Api:WaitProgressSeconds", 20.0)));

    public async Task<WaitTasksResponse> WaitAsync(WaitTasksRequest request, CancellationToken ct,
        Func<WaitProgress, CancellationToken, ValueTask>? progress = null, Guid? teamScope = null)
    {
        var ids = (request.TaskIds ?? []).Distinct().ToList();
        var errors = new ValidationErrors();
        if (request.TaskIds is null || ids.Count == 0) errors.Add("task_ids", "Required: the ids of the tasks to wait for, e.g. [4, 5, 6].");
        else if (ids.Count > MaxTasks) errors.Add("task_ids", $"At most {MaxTasks} tasks per wait.");
        CheckTimeout(request.TimeoutSeconds, errors);
        errors.ThrowIfAny();

        var timeout = request.TimeoutSeconds is { } secs && secs < MaxWait.TotalSeconds ? TimeSpan.FromSeconds(secs) : MaxWait;
        var teams = await CheckTasksAsync(ids, teamScope, ct);

        using var subscription = feed.Subscribe();
        var started = clock.GetTimestamp();
        var lastSettled = -1;
        var lastReport = TimeSpan.Zero;
        while (true)
        {
            var states = await ReadAsync(ids, ct);
            var elapsed = clock.GetElapsedTime(started);
            var settled = states.Count(x => x.Terminal || x.NeverStart);
            if (settled == states.Count) return Result(states, timedOut: false, elapsed, timeout);
            if (elapsed >= timeout)
            {
                LogTimedOut(logger, ids.Count, settled, timeout.TotalSeconds);
                return Result(states, timedOut: true, elapsed, timeout);
            }
            if (progress is not null && settled != lastSettled)
            {
                await progress(new WaitProgress(settled, states.Count, elapsed.TotalSeconds, states), ct);
                lastSettled = settled;
                lastReport = elapsed;
            }

            // Sleep until a relevant change, the deadline, or the next progress report.
            while (true)
            {
                elapsed = clock.GetElapsedTime(started);
                var untilDeadline = timeout - elapsed;
                if (untilDeadline <= TimeSpan.Zero) break;
                var wake = untilDeadline;
                if (progress is not null) wake = Min(wake, Max(TimeSpan.Zero, lastReport + ProgressInterval - elapsed));
                if (await NextRelevantChangeAsync(subscription, teams, wake, ct)) break;
                if (progress is not null && clock.GetElapsedTime(started) - lastReport >= ProgressInterval)
                {
                    lastReport = clock.GetElapsedTime(started);
                    await progress(new WaitProgress(settled, states.Count, lastReport.TotalSeconds, states), ct);
                }
            }
        }
    }

    /// <summary>True when a task change of an awaited team arrived within <paramref name="wait"/>.</summary>
    private async Task<bool> NextRelevantChangeAsync(ChangeFeed.Subscription subscription, HashSet<Guid> teams, TimeSpan wait, CancellationToken ct)
    {
        var reader = subscription.Reader;
        var relevant = false;
        while (reader.TryRead(out var e)) relevant |= IsRelevant(e, teams);
        if (relevant) return true;
        if (wait <= TimeSpan.Zero) return false;

        using var round = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var deadline = clock.GetTimestamp() + (long)(wait.TotalSeconds * clock.TimestampFrequency);
        try
        {
            while (true)
            {
                var remaining = TimeSpan.FromSeconds((deadline - clock.GetTimestamp()) / (double)clock.TimestampFrequency);
                if (remaining <= TimeSpan.Zero) return false;
                var readable = reader.WaitToReadAsync(round.Token).AsTask();
                var timer = Task.Delay(remaining, clock, round.Token);
                var first = await Task.WhenAny(readable, timer);
                ct.ThrowIfCancellationRequested();
                if (first != readable || !await readable) return false;
                while (reader.TryRead(out var e)) relevant |= IsRelevant(e, teams);
                if (relevant) return true;
            }
        }
        finally
        {
            // Frees whichever of the timer and the channel wait is still pending.
            await round.CancelAsync();
        }
    }

    private static bool IsRelevant(ChangeEvent e, HashSet<Guid> teams) =>
        e.Kind is "task" or "task_dependency" && (e.TeamId is null || teams.Contains(e.TeamId.Value));

    private async Task<HashSet<Guid>> CheckTasksAsync(List<long> ids, Guid? teamScope, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        var found = await db.Tasks.AsNoTracking().Where(t => ids.Contains(t.Id)).Select(t => new { t.Id, t.TeamId }).ToListAsync(ct);
        var missing = ids.Where(id => found.All(f => f.Id != id)).ToList();
        if (missing.Count > 0)
            throw ApiProblem.Invalid("task_ids", $"No task with id {string.Join(", ", missing)}. Use ids from GET /api/v1/teams/{{team_id}}/tasks.");
        if (teamScope is { } scope && found.Where(f => f.TeamId != scope).Select(f => f.Id).ToList() is { Count: > 0 } foreign)
            throw ApiProblem.Invalid("task_ids", $"Tasks {string.Join(", ", foreign)} belong to another team; you can only wait for your own team's tasks.");
        return found.Select(f => f.TeamId).ToHashSet();
    }

    private async Task<List<WaitTaskState>> ReadAsync(List<long> ids, CancellationToken ct)
    {
        await using var db = await dbs.CreateDbContextAsync(ct);
        return await WaitStates.ComputeAsync(db, ids, ct);
    }

    private static WaitTasksResponse Result(List<WaitTaskState> states, bool timedOut, TimeSpan elapsed, TimeSpan timeout)
    {
        var counts = states.GroupBy(s => EnumNames.ToSnake(s.Status)).ToDictionary(g => g.Key, g => g.Count());
        var neverStart = states.Where(s => s.NeverStart).Select(s => s.Id).ToList();
        if (neverStart.Count > 0) counts["never_start"] = neverStart.Count;
        return new WaitTasksResponse(states.All(s => s.Terminal), timedOut, Math.Round(elapsed.TotalSeconds, 3), timeout.TotalSeconds, states, neverStart, counts);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    [LoggerMessage(Level = LogLevel.Information, Message = "Wait for {Count} tasks timed out after {Seconds} s with {Settled} settled")]
    private static partial void LogTimedOut(ILogger logger, int count, int settled, double seconds);
}
