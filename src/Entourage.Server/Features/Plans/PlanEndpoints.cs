using Entourage.Client.Contracts;
using Entourage.Server.Features.Teams;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Plans;

public static class PlanEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("").WithTags("Plans");
        g.MapGet("/teams/{team_id}/plans", List).WithSummary("A team's plans, newest first; ?state=proposed lists those awaiting approval.");
        g.MapGet("/plans/{plan_id:long}", Get).WithSummary("A plan with its tasks and their dependency edges (the DAG).");
        g.MapPost("/plans/{plan_id:long}/approve", (long plan_id, ApprovePlanRequest? body, AppDbContext db, TimeProvider clock, CancellationToken ct) =>
            Ok(DecidePlan.ApproveAsync(db, plan_id, body ?? new ApprovePlanRequest(), clock, ct)));
        g.MapPost("/plans/{plan_id:long}/reject", (long plan_id, RejectPlanRequest body, AppDbContext db, TimeProvider clock, CancellationToken ct) =>
            Ok(DecidePlan.RejectAsync(db, plan_id, body, clock, ct)));
    }

    private static async Task<Ok<PlanDto>> Ok(Task<PlanDto> work) => TypedResults.Ok(await work);

    private static async Task<Ok<List<PlanDto>>> List(string team_id, AppDbContext db, CancellationToken ct, string? state = null)
    {
        var team = await TeamEndpoints.FindAsync(db, team_id, ct);
        var q = db.Plans.Where(p => p.TeamId == team.Id);
        if (state is not null)
        {
            if (!EnumNames.TryParse<PlanState>(state, out var s)) throw ApiProblem.Invalid("state", $"Use one of: {EnumNames.Allowed<PlanState>()}.");
            q = q.Where(p => p.State == s);
        }
        var plans = await q.OrderByDescending(p => p.Id).Take(100).ToListAsync(ct);
        var result = new List<PlanDto>(plans.Count);
        foreach (var p in plans) result.Add(await PlanViews.ToDtoAsync(db, p, ct));
        return TypedResults.Ok(result);
    }

    private static async Task<Ok<PlanDto>> Get(long plan_id, AppDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await PlanViews.ToDtoAsync(db, await PlanViews.FindAsync(db, plan_id, ct), ct));
}
