using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Agents;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Agents;

/// <summary>
/// Builds <see cref="AgentDto"/>s with live status: busy exactly while a turn runs, offline when the agent's
/// CLI cannot be launched here, idle otherwise.
/// </summary>
public sealed class AgentViews(AppDbContext db, AdapterCatalog adapters)
{
    private static readonly TaskState[] Active = [TaskState.Todo, TaskState.InProgress, TaskState.InReview];

    public async Task<List<AgentDto>> ForTeamAsync(Guid teamId, CancellationToken ct)
    {
        var agents = await db.Agents.Where(a => a.TeamId == teamId).OrderBy(a => a.Role).ThenBy(a => a.CreatedAt).ToListAsync(ct);
        return await ToDtosAsync(agents, ct);
    }

    public async Task<AgentDto> ForAgentAsync(Agent agent, CancellationToken ct, string? token = null) =>
        (await ToDtosAsync([agent], ct, token)).Single();

    private async Task<List<AgentDto>> ToDtosAsync(List<Agent> agents, CancellationToken ct, string? token = null)
    {
        var ids = agents.Select(a => a.Id).ToList();
        var running = await db.Turns.Where(t => ids.Contains(t.AgentId) && t.State == TurnState.Running)
            .Select(t => new { t.AgentId, t.TaskId }).ToListAsync(ct);
        var counts = await db.Tasks.Where(t => t.AssigneeId != null && ids.Contains(t.AssigneeId.Value) && Active.Contains(t.Status))
            .GroupBy(t => t.AssigneeId!.Value).Select(g => new { AgentId = g.Key, Count = g.Count() }).ToListAsync(ct);
        return agents.Select(a =>
        {
            var config = ParseConfig(a.ConfigJson);
            var turn = running.FirstOrDefault(r => r.AgentId == a.Id);
            var availability = adapters.Check(a.Adapter, config);
            var (status, reason) = turn is not null ? (AgentStatus.Busy, (string?)null)
                : availability.Available ? (AgentStatus.Idle, null)
                : (AgentStatus.Offline, availability.Reason);
            return new AgentDto(a.Id, a.TeamId, a.Name, a.Role, a.Model, a.Adapter, config, status, reason,
                counts.FirstOrDefault(c => c.AgentId == a.Id)?.Count ?? 0, turn?.TaskId, a.CreatedAt, token, Runners.NodeLabels.Parse(a.RunnerLabels));
        }).ToList();
    }

    public static JsonObject ParseConfig(string json) => JsonNode.Parse(json) as JsonObject ?? [];
}
