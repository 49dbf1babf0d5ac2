using Entourage.Client.Contracts;
using Entourage.Server.Agents;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Agents;

/// <summary>PATCH /agents/{agent_id}: only the fields present change. The team keeps exactly one manager.</summary>
public static class UpdateAgent
{
    public static async Task<Ok<AgentDto>> Handle(Guid agent_id, UpdateAgentRequest body, AppDbContext db, AgentViews views, TimeProvider clock, CancellationToken ct)
    {
        var agent = await AgentLookup.FindAsync(db, agent_id, ct);
        var errors = new ValidationErrors();
        var name = body.Name?.Trim();
        if (name is not null && (name.Length == 0 || name.Length > 100)) errors.Add("name", "1–100 characters, unique in the team.");
        var adapter = body.Adapter?.Trim() ?? agent.Adapter;
        if (!AdapterCatalog.IsKnown(adapter)) errors.Add("adapter", $"Unknown adapter '{adapter}'. Use one of: {AdapterCatalog.AllowedNames}.");
        var config = body.Config ?? AgentViews.ParseConfig(agent.ConfigJson);
        var configJson = config.ToJsonString();
        if (configJson.Length > AgentFactory.MaxConfigBytes) errors.Add("config", $"At most {AgentFactory.MaxConfigBytes} bytes of JSON.");
        if (config["description"] is { } d && d.GetValueKind() != System.Text.Json.JsonValueKind.String) errors.Add("config.description", "Must be a string.");
        if (adapter == "command" && config["command"] is null) errors.Add("config.command", "The command adapter needs config.command: the executable to run.");
        if (body.Model is { Length: > 200 }) errors.Add("model", "At most 200 characters.");
        var labels = Runners.NodeLabels.Normalize(body.RunnerLabels, errors, "runner_labels");
        errors.ThrowIfAny();

        if (name is not null && name != agent.Name && await db.Agents.AnyAsync(a => a.TeamId == agent.TeamId && a.Name == name, ct))
            throw AgentFactory.NameTaken(name);
        if (body.Role is { } role && role != agent.Role)
        {
            if (agent.Role == AgentRole.Manager)
                throw ApiProblem.Conflict("This agent is the team's manager; a team always keeps its manager. Give another agent a different role instead.");
            if (role == AgentRole.Manager && await AgentLookup.ManagerOfAsync(db, agent.TeamId, ct) is { } manager)
                throw AgentFactory.SecondManager(manager);
            agent.Role = role;
        }
        if (name is not null) agent.Name = name;
        if (body.Model is not null) agent.Model = body.Model;
        agent.Adapter = adapter;
        if (body.RunnerLabels is not null) agent.RunnerLabels = labels;
        agent.ConfigJson = configJson;
        agent.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveOrConflictAsync(() => AgentFactory.NameTaken(agent.Name), ct);
        return TypedResults.Ok(await views.ForAgentAsync(agent, ct));
    }
}
