using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Agents;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Agents;

/// <summary>Validates and adds a new agent (with its token) to the caller's unit of work.</summary>
public static class AgentFactory
{
    public const string DefaultModel = "claude-sonnet-4-20250514";
    public const string DefaultAdapter = "claude-code";
    public const int MaxConfigBytes = 16 * 1024;

    public static async Task<(Agent Agent, string Token)> AddAsync(
        AppDbContext db, Guid teamId, CreateAgentRequest body, DateTime now, CancellationToken ct, string fieldPrefix = "")
    {
        var errors = new ValidationErrors();
        var name = body.Name?.Trim();
        if (string.IsNullOrEmpty(name)) errors.Add(fieldPrefix + "name", "Required: give the agent a name unique in its team, e.g. \"eng-backend\".");
        else if (name.Length > 100) errors.Add(fieldPrefix + "name", "At most 100 characters.");
        var adapter = body.Adapter?.Trim() ?? DefaultAdapter;
        if (!AdapterCatalog.IsKnown(adapter)) errors.Add(fieldPrefix + "adapter", $"Unknown adapter '{adapter}'. Use one of: {AdapterCatalog.AllowedNames}.");
        var config = body.Config ?? [];
        var configJson = config.ToJsonString();
        if (configJson.Length > MaxConfigBytes) errors.Add(fieldPrefix + "config", $"At most {MaxConfigBytes} bytes of JSON.");
        if (config["description"] is { } d && d.GetValueKind() != System.Text.Json.JsonValueKind.String)
            errors.Add(fieldPrefix + "config.description", "Must be a string.");
        if (adapter == "command" && config["command"] is null)
            errors.Add(fieldPrefix + "config.command", "The command adapter needs config.command: the executable to run.");
        if (body.Model is { Length: > 200 }) errors.Add(fieldPrefix + "model", "At most 200 characters.");
        var labels = Runners.NodeLabels.Normalize(body.RunnerLabels, errors, fieldPrefix + "runner_labels");
        errors.ThrowIfAny();

        if (await db.Agents.AnyAsync(a => a.TeamId == teamId && a.Name == name, ct) ||
            db.Agents.Local.Any(a => a.TeamId == teamId && a.Name == name))
            throw NameTaken(name!);
        // A second manager could never be removed again (neither deleted nor demoted: both keep the team's manager).
        if (body.Role == AgentRole.Manager && await AgentLookup.ManagerOfAsync(db, teamId, ct) is { } manager)
            throw SecondManager(manager);

        var (token, hash, prefix) = AgentTokens.Mint();
        var agent = new Agent
        {
            Id = Guid.CreateVersion7(),
            TeamId = teamId,
            Name = name!,
            Role = body.Role ?? AgentRole.Engineer,
            Model = body.Model ?? DefaultModel,
            Adapter = adapter,
            ConfigJson = configJson,
            TokenHash = hash,
            TokenPrefix = prefix,
            RunnerLabels = labels,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Agents.Add(agent);
        return (agent, token);
    }

    public static ApiProblem NameTaken(string name) =>
        ApiProblem.Conflict($"The team already has an agent named '{name}'. Agent names are unique per team; pick another.");

    /// <summary>The answer to making a second manager, by create or by role change alike.</summary>
    public static ApiProblem SecondManager(Agent manager) =>
        ApiProblem.Conflict($"The team already has its manager '{manager.Name}' ({manager.Id}); a team has exactly one. " +
                            $"Give this agent the role engineer or reviewer, or change the manager itself with PATCH /api/v1/agents/{manager.Id}.");

    public static JsonObject ManagerDefaultConfig() => new() { ["description"] = "Decomposes features, coordinates" };
}
