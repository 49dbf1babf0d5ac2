using System.Text.Json.Nodes;

namespace Entourage.Client;

// Human requests, reviews, turns and costs have no shared contracts yet; these return the server's JSON as is
// and callers read the documented fields.
public sealed partial class EntourageClient
{
    /// <summary>GET /human-requests?team_id=&amp;status= — questions agents asked, oldest first.</summary>
    public async Task<JsonArray> ListHumanRequestsAsync(string? team = null, string? status = "pending", CancellationToken ct = default) =>
        await GetAsync<JsonNode?>("api/v1/human-requests" + Query(("team_id", team), ("status", status)), ct) as JsonArray ?? [];

    public async Task<JsonObject> GetHumanRequestAsync(long id, CancellationToken ct = default) =>
        await GetAsync<JsonNode?>($"api/v1/human-requests/{id}", ct) as JsonObject ?? [];

    /// <summary>POST /human-requests/{id}/respond: the answer reaches the agent as a new turn.</summary>
    public async Task<JsonObject> RespondToHumanRequestAsync(long id, string answer, string? by = null, CancellationToken ct = default) =>
        await SendAsync<JsonNode?>(HttpMethod.Post, $"api/v1/human-requests/{id}/respond",
            new JsonObject { ["answer"] = answer, ["answered_by"] = by }, ct) as JsonObject ?? [];

    /// <summary>GET /tasks/{id}/review: the latest review of a task (diff, state, comments).</summary>
    public async Task<JsonObject> GetReviewAsync(long taskId, CancellationToken ct = default) =>
        await GetAsync<JsonNode?>($"api/v1/tasks/{taskId}/review", ct) as JsonObject ?? [];

    /// <summary>POST /tasks/{id}/review: <c>decision</c> approve|request_changes, a summary and file/line comments.</summary>
    public async Task<JsonObject> SubmitReviewAsync(long taskId, JsonObject verdict, CancellationToken ct = default) =>
        await SendAsync<JsonNode?>(HttpMethod.Post, $"api/v1/tasks/{taskId}/review", verdict, ct) as JsonObject ?? [];

    public async Task<JsonArray> ListTurnsAsync(Guid agentId, CancellationToken ct = default) =>
        await GetAsync<JsonNode?>($"api/v1/agents/{agentId}/turns", ct) as JsonArray ?? [];

    public async Task<JsonObject> GetTurnAsync(Guid turnId, CancellationToken ct = default) =>
        await GetAsync<JsonNode?>($"api/v1/turns/{turnId}", ct) as JsonObject ?? [];

    /// <summary>GET /teams/{id}/costs: spend by agent, task and day.</summary>
    public async Task<JsonObject> GetTeamCostsAsync(string team, CancellationToken ct = default) =>
        await GetAsync<JsonNode?>($"api/v1/teams/{Esc(team)}/costs", ct) as JsonObject ?? [];
}
