using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Tasks;

/// <summary>Loading a task for a change: team first (to take the team's lock), then the row inside the transaction.</summary>
internal static class TaskLoad
{
    /// <summary>The task row, tracked; compiled, since every status change and most task endpoints start with it.</summary>
    public static readonly PerModel<Func<AppDbContext, long, CancellationToken, Task<TaskItem?>>> Row = new(() =>
        EF.CompileAsyncQuery((AppDbContext db, long taskId, CancellationToken ct) => db.Tasks.FirstOrDefault(t => t.Id == taskId)));

    public static async Task<Guid> TeamOfAsync(AppDbContext db, long taskId, CancellationToken ct)
    {
        var team = await db.Tasks.Where(t => t.Id == taskId).Select(t => (Guid?)t.TeamId).FirstOrDefaultAsync(ct);
        return team ?? throw ApiProblem.NotFound("task", taskId);
    }

    /// <summary>Reads the current row (reloading it if the context already tracked an older copy).</summary>
    public static async Task<TaskItem> ForUpdateAsync(AppDbContext db, long taskId, CancellationToken ct)
    {
        // A row this context already tracks may be older than the transaction: reload it. An untracked one is
        // read fresh by the query itself, so one round trip is enough (this is on every status change's path).
        var tracked = db.Tasks.Local.FirstOrDefault(t => t.Id == taskId);
        if (tracked is null) return await TaskViews.FindAsync(db, taskId, ct);
        await db.Entry(tracked).ReloadAsync(ct);
        return tracked;
    }
}
