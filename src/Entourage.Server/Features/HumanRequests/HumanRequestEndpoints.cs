using Entourage.Client.Contracts;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.HumanRequests;

public static class HumanRequestEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("").WithTags("Human requests");
        g.MapGet("/human-requests", ListHumanRequests.Handle).WithRange("limit", 1, 1000);
        g.MapGet("/teams/{team_id}/human-requests", (string team_id, AppDbContext db, CancellationToken ct, string? status, Guid? agent_id, long? task_id, int? limit) =>
            ListHumanRequests.Handle(db, ct, team_id, status, agent_id, task_id, limit)).WithRange("limit", 1, 1000);
        g.MapGet("/human-requests/{id:long}", Get);
        g.MapPost("/human-requests/{id:long}/respond", Respond);
        g.MapPost("/agents/{agent_id:guid}/human-requests", Ask).WithRange("wait_seconds", 0, 3600);
    }

    private static async Task<Ok<HumanRequestDto>> Get(long id, AppDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await HumanRequestViews.GetAsync(db, id, ct));

    private static async Task<Ok<HumanRequestDto>> Respond(long id, RespondHumanRequest body, AppDbContext db, ChangeInterceptor changes, TimeProvider clock, CancellationToken ct) =>
        TypedResults.Ok(await RespondToHumanRequest.ExecuteAsync(db, changes, id, body, "human", clock, ct));

    /// <summary>
    /// Asks a person on behalf of an agent (what the ask_human tool does), for CLI-driven agents and scripts.
    /// With wait_seconds the call blocks until the answer, the expiry, or that many seconds.
    /// </summary>
    private static async Task<Created<HumanRequestDto>> Ask(Guid agent_id, AskHumanRequest body, AppDbContext db, HumanRequestWaiter waiter, TimeProvider clock, CancellationToken ct, int? wait_seconds = null)
    {
        if (wait_seconds is < 0 or > 3600) throw ApiProblem.Invalid("wait_seconds", "Between 0 and 3600; omit it to return at once.");
        var agent = await db.Agents.FirstOrDefaultAsync(a => a.Id == agent_id, ct) ?? throw ApiProblem.NotFound("agent", agent_id);
        var created = await AskHuman.ExecuteAsync(db, agent, body, clock, ct);
        if (wait_seconds is > 0) created = await waiter.WaitAsync(created.Id, TimeSpan.FromSeconds(wait_seconds.Value), null, ct);
        return TypedResults.Created($"/api/v1/human-requests/{created.Id}", created);
    }
}
