using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Entourage.Bench;

/// <summary>
/// A store that has been in use, before anything is measured: a finished feature's worth of history in a team of its
/// own (tasks in a dependency chain, their timelines, messages, wake-ups and turns), then, on PostgreSQL, <c>ANALYZE</c>,
/// as autovacuum does on a live server.
/// <para>
/// Measured on an empty database, PostgreSQL cached each hot statement's generic plan (Npgsql prepares it, the plan is
/// built on its sixth run) while the tables held a page or two, where a sequential scan is the cheapest way to find a
/// row by its key; nothing analysed the tables during a run, so those plans stayed while the tables grew to a thousand
/// tasks, and a task's "done" scanned them. Whether a run's plans were built before or after the tables outgrew that
/// decided the run: (c) 3.2 or 4.3 ms for the same code, c/b 1.6 or 2.4. A server in use has its tables analysed and its
/// plans built on them; that is what the bench measures now. The early life of a fresh install (tiny tables scanned)
/// costs microseconds there, since the tables are tiny.
/// </para>
/// <para>
/// SQLite is not analysed: the product never does it. With statistics (sqlite_stat1) its planner made (c) slower, 2.2 →
/// 3.3 ms at p50 in one run; worth a look before the server ever runs <c>PRAGMA optimize</c>.
/// </para>
/// </summary>
internal static class History
{
    public static async Task SeedAsync(IServiceProvider services, Guid team, Guid agent, int tasks)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var at = DateTime.UtcNow.AddDays(-1);
        var items = Enumerable.Range(0, tasks).Select(i => new TaskItem
        {
            TeamId = team, Title = $"history {i}", Status = TaskState.Done, AssigneeId = agent,
            CreatedAt = at, UpdatedAt = at, StartedAt = at, CompletedAt = at,
        }).ToList();
        db.Tasks.AddRange(items);
        await db.SaveChangesAsync();

        for (var i = 1; i < items.Count; i++) db.TaskDependencies.Add(new TaskDependency { TaskId = items[i].Id, DependsOnId = items[i - 1].Id });
        foreach (var t in items)
        {
            var turn = Guid.NewGuid();
            db.Turns.Add(new Turn
            {
                Id = turn, AgentId = agent, TeamId = team, TaskId = t.Id, State = TurnState.Succeeded, Node = "history",
                StartedAt = at, EndedAt = at, HeartbeatAt = at, LeaseUntil = at, ExitCode = 0,
            });
            db.DispatchRequests.Add(new DispatchRequest
            {
                AgentId = agent, TeamId = team, Reason = DispatchReason.TaskReady, Ref = t.Id.ToString(), TaskId = t.Id,
                State = DispatchState.Done, TurnId = turn, CreatedAt = at, UpdatedAt = at,
            });
            db.Messages.Add(new Message { TeamId = team, RecipientId = agent, TaskId = t.Id, Body = "done?", CreatedAt = at, ReadAt = at });
            foreach (var (kind, from, to) in new[] { ("status_changed", "todo", "in_progress"), ("turn_started", null, null), ("status_changed", "in_progress", "done") })
                db.TaskEvents.Add(new TaskEvent { TaskId = t.Id, TeamId = team, Kind = kind, ActorType = ActorType.System, ActorName = "history", FromStatus = from, ToStatus = to, CreatedAt = at });
        }
        await db.SaveChangesAsync();
        // PostgreSQL's autovacuum analyses a live server's tables; nothing analyses a SQLite store (the server runs
        // neither ANALYZE nor PRAGMA optimize), so its planner keeps working without statistics, as it does here.
        if (db.IsPostgres) await db.Database.ExecuteSqlRawAsync("ANALYZE");
    }
}
