using Entourage.Client.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Entourage.Server.Features.Tasks;

/// <summary>POST /tasks/wait: the request stays open until the tasks settle or the timeout; closing it cancels the wait.</summary>
public static class WaitEndpoint
{
    public static void Map(RouteGroupBuilder api) =>
        api.MapPost("/tasks/wait", Handle).WithTags("Tasks").WithProblems()
            .WithSummary("Block until every task is done, cancelled or failed (or can never start), or until timeout_seconds; returns each task's state.");

    private static async Task<Ok<WaitTasksResponse>> Handle(WaitTasksRequest body, TaskWaiter waiter, CancellationToken ct) =>
        TypedResults.Ok(await waiter.WaitAsync(body, ct));
}
