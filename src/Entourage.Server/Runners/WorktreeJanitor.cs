using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Runners;

/// <summary>
/// A runner on the database: each heartbeat interval, removes the worktrees it holds for tasks that are now done
/// or cancelled (an HTTP runner gets the same answer from its heartbeat call instead).
/// </summary>
public sealed class WorktreeJanitor(
    IDbContextFactory<AppDbContext> factory,
    RunnerWorktrees worktrees,
    IOptions<DispatchOptions> options,
    TimeProvider clock,
    ILogger<WorktreeJanitor> logger) : LoopService(logger, clock)
{
    protected override async Task<bool> IterateAsync(CancellationToken ct)
    {
        var held = worktrees.Tasks;
        if (held.Count == 0) return false;
        await using var db = await factory.CreateDbContextAsync(ct);
        var finished = await db.Tasks.AsNoTracking()
            .Where(t => held.Contains(t.Id) && (t.Status == TaskState.Done || t.Status == TaskState.Cancelled))
            .Select(t => t.Id).ToListAsync(ct);
        await worktrees.RemoveAsync(finished, ct);
        return false;
    }

    protected override Task WaitAsync(CancellationToken ct) => Task.Delay(options.Value.Heartbeat, Clock, ct);
}
