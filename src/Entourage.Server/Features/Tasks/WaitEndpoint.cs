using Entourage.Client.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Tasks;

/// <summary>POST /tasks/wait: the request stays open until the tasks settle or the timeout; closing it cancels the wait.</summary>
public static class WaitEndpoint
{
    public static void Map(RouteGroupBuilder api) =>
        api.MapPost("/tasks/wait", Handle).WithTags("Tasks").WithProblems()
            .WithSummary("Block until every task is done, cancelled or failed (or can never start), or until timeout_seconds; returns each task's state.");

    private static async Task<Ok<WaitTasksResponse>> Handle(WaitTasksRequest body, TaskWaiter waiter, Security.RequestCaller caller, Storage.AppDbContext db, CancellationToken ct)
    {
        // Task ids come in the body, so the route guard cannot see them: another org's task is "not found" (issue #9).
        if (caller.VisibleTeamIds(db) is { } visible && body.TaskIds is { Count: > 0 } given)
        {
            var ids = given.Distinct().ToList();
            var seen = await db.Tasks.Where(t => ids.Contains(t.Id) && visible.Contains(t.TeamId)).Select(t => t.Id).ToListAsync(ct);
            foreach (var id in ids)
                if (!seen.Contains(id)) throw Hosting.ApiProblem.NotFound("task", id);
        }
        return TypedResults.Ok(await waiter.WaitAsync(body, ct));
    }
}
