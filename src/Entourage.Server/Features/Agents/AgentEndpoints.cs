using Entourage.Client.Contracts;
using Entourage.Server.Features.Teams;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Entourage.Server.Features.Agents;

public static class AgentEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("").WithTags("Agents").WithProblems();
        g.MapPost("/teams/{team_id}/agents", Create).WithSummary("Add an agent (engineer by default; the team's one manager comes with the team); the response shows its MCP token once.");
        g.MapGet("/teams/{team_id}/agents", List).WithSummary("A team's agents with status (idle|busy|offline), role, active_task_count, adapter, model, config.");
        g.MapGet("/agents/{agent_id}", Get).WithSummary("One agent with its live status.");
        g.MapPatch("/agents/{agent_id}", UpdateAgent.Handle).WithSummary("Edit an agent; config replaces the whole object.");
        g.MapDelete("/agents/{agent_id}", DeleteAgent.Handle).WithSummary("Remove an idle agent; its open tasks become unassigned.");
    }

    private static async Task<Created<AgentDto>> Create(string team_id, CreateAgentRequest body, AppDbContext db, AgentViews views, TimeProvider clock, CancellationToken ct)
    {
        var (agent, token) = await CreateAgent.ExecuteAsync(db, team_id, body, clock.GetUtcNow().UtcDateTime, ct);
        return TypedResults.Created($"/api/v1/agents/{agent.Id}", await views.ForAgentAsync(agent, ct, token));
    }

    private static async Task<Ok<List<AgentDto>>> List(string team_id, AppDbContext db, AgentViews views, CancellationToken ct)
    {
        var team = await TeamEndpoints.FindAsync(db, team_id, ct);
        return TypedResults.Ok(await views.ForTeamAsync(team.Id, ct));
    }

    private static async Task<Ok<AgentDto>> Get(Guid agent_id, AppDbContext db, AgentViews views, CancellationToken ct) =>
        TypedResults.Ok(await views.ForAgentAsync(await AgentLookup.FindAsync(db, agent_id, ct), ct));
}
