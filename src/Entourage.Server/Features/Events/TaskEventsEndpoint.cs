using Entourage.Client.Contracts;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Events;

/// <summary>GET /tasks/{task_id}/events: the task's timeline in order; <c>after</c> (an event id) pages or tails it.</summary>
public static class TaskEventsEndpoint
{
    public const int MaxLimit = 1000;

    public static void Map(RouteGroupBuilder api) =>
        api.MapGet("/tasks/{task_id}/events", Handle).WithTags("Tasks").WithProblems().WithRange("limit", 1, MaxLimit)
            .WithSummary("The task's timeline: created, assigned, status changes (from→to), messages, turns… with actor and time.");

    public static async Task<List<TaskEventDto>> ListAsync(AppDbContext db, long taskId, long? after, int limit, CancellationToken ct)
    {
        if (limit is < 1 or > MaxLimit) throw ApiProblem.Invalid("limit", $"Between 1 and {MaxLimit}.");
        if (!await db.Tasks.AnyAsync(t => t.Id == taskId, ct)) throw ApiProblem.NotFound("task", taskId);
        var q = db.TaskEvents.AsNoTracking().Where(e => e.TaskId == taskId);
        if (after is { } a) q = q.Where(e => e.Id > a);
        var events = await q.OrderBy(e => e.Id).Take(limit).ToListAsync(ct);
        return events.Select(TaskTimeline.ToDto).ToList();
    }

    private static async Task<Ok<List<TaskEventDto>>> Handle(long task_id, AppDbContext db, CancellationToken ct, long? after = null, int? limit = null) =>
        TypedResults.Ok(await ListAsync(db, task_id, after, limit ?? MaxLimit, ct));
}
