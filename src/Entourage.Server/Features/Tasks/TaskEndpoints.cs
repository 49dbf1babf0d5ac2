using Entourage.Client.Contracts;
using Entourage.Server.Features.Teams;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Entourage.Server.Features.Tasks;

/// <summary>Thin HTTP layer over the task use cases; REST callers act as a person.</summary>
public static class TaskEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("").WithTags("Tasks").WithProblems();
        g.MapPost("/teams/{team_id}/tasks", Create).WithSummary("Create a task (optionally assigned, with dependencies).");
        g.MapPost("/teams/{team_id}/tasks/batch", CreateBatch).WithSummary("Create several tasks atomically; depends_on_indices wires items of the batch.");
        g.MapGet("/teams/{team_id}/tasks", List).WithRange("limit", 1, ListTasks.MaxLimit).WithSummary("List a team's tasks in id order; filter by status, assignee, parent, ready; page with after and limit (Link: rel=\"next\").");
        g.MapGet("/tasks/{task_id}", Get).WithSummary("A task with depends_on, dependents, ready, blocked_by and blocked_by_failed.");
        g.MapPatch("/tasks/{task_id}", Update).WithSummary("Edit a task; depends_on replaces its dependencies (todo only).");
        g.MapPost("/tasks/{task_id}/status", ChangeStatus).WithSummary("Move a task through the state machine; in_progress needs every dependency done.");
        g.MapPost("/tasks/{task_id}/assign", Assign).WithSummary("Assign (or with null, unassign) a task.");
    }

    private static async Task<Created<TaskDto>> Create(string team_id, CreateTaskRequest body, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var team = await TeamEndpoints.FindAsync(db, team_id, ct);
        var task = await CreateTask.ExecuteAsync(db, team.Id, body, Actor.Human(), clock, ct);
        return TypedResults.Created($"/api/v1/tasks/{task.Id}", task);
    }

    private static async Task<Created<CreateTasksBatchResponse>> CreateBatch(string team_id, CreateTasksBatchRequest body, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var team = await TeamEndpoints.FindAsync(db, team_id, ct);
        var result = await CreateTasksBatch.ExecuteAsync(db, team.Id, body, Actor.Human(), clock, ct);
        return TypedResults.Created($"/api/v1/teams/{team.Id}/tasks", result);
    }

    private static async Task<Ok<List<TaskDto>>> List(string team_id, HttpContext http, AppDbContext db, CancellationToken ct,
        string? status = null, string? assignee = null, string? parent = null, bool? ready = null, long? after = null, int? limit = null)
    {
        var team = await TeamEndpoints.FindAsync(db, team_id, ct);
        var page = await ListTasks.PageAsync(db, team.Id, new TaskListQuery(status, assignee, parent, ready, after), limit ?? ListTasks.MaxLimit, ct);
        if (page.NextAfter is { } next) http.Response.Headers.Link = NextLink(http.Request, next);
        return TypedResults.Ok(page.Tasks);
    }

    /// <summary>The same request with <c>after</c> moved on (RFC 8288): the body stays the plain array the spec shows.</summary>
    private static string NextLink(HttpRequest request, long after)
    {
        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(request.QueryString.Value);
        query["after"] = after.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return $"<{Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(request.PathBase + request.Path, query)}>; rel=\"next\"";
    }

    private static async Task<Ok<TaskDto>> Get(long task_id, AppDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await TaskViews.GetAsync(db, task_id, ct));

    private static async Task<Ok<TaskDto>> Update(long task_id, UpdateTaskRequest body, AppDbContext db, TimeProvider clock, CancellationToken ct) =>
        TypedResults.Ok(await UpdateTask.ExecuteAsync(db, task_id, body, Actor.Human(), clock, ct));

    /// <summary>An agent's own token acts as that agent (the review gate applies), anyone else as a person.</summary>
    private static async Task<Ok<TaskDto>> ChangeStatus(long task_id, ChangeTaskStatusRequest body, AppDbContext db, Security.RequestCaller caller, TimeProvider clock, CancellationToken ct) =>
        TypedResults.Ok(await ChangeTaskStatus.ExecuteAsync(db, task_id, body, await CallerActor.OfAsync(caller, db, ct), clock, ct));

    private static async Task<Ok<TaskDto>> Assign(long task_id, AssignTaskRequest body, AppDbContext db, TimeProvider clock, CancellationToken ct) =>
        TypedResults.Ok(await AssignTask.ExecuteAsync(db, task_id, body.AssigneeId, Actor.Human(), clock, ct));
}
