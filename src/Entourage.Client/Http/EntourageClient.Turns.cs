using System.Text.Json.Nodes;

namespace Entourage.Client;

// Turns and costs have no shared contracts yet: these return the server's JSON as is, and callers read the
// documented fields (id, state, started_at, log; by_agent/by_task/by_day).
public sealed partial class EntourageClient
{
    public async Task<JsonArray> ListTurnsAsync(Guid agentId, CancellationToken ct = default) =>
        await GetAsync<JsonNode?>($"api/v1/agents/{agentId}/turns", ct) as JsonArray ?? [];

    public async Task<JsonObject> GetTurnAsync(Guid turnId, CancellationToken ct = default) =>
        await GetAsync<JsonNode?>($"api/v1/turns/{turnId}", ct) as JsonObject ?? [];

    /// <summary>GET /teams/{id}/costs: spend by agent, task and day.</summary>
    public async Task<JsonObject> GetTeamCostsAsync(string team, CancellationToken ct = default) =>
        await GetAsync<JsonNode?>($"api/v1/teams/{Esc(team)}/costs", ct) as JsonObject ?? [];
}
