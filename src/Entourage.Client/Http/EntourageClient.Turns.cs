using Entourage.Client.Contracts;

namespace Entourage.Client;

public sealed partial class EntourageClient
{
    /// <summary>GET /agents/{id}/turns: the agent's turns (without logs).</summary>
    public Task<List<TurnDto>> ListTurnsAsync(Guid agentId, CancellationToken ct = default) =>
        GetAsync<List<TurnDto>>($"api/v1/agents/{agentId}/turns", ct);

    /// <summary>GET /turns/{id}: one turn with its log.</summary>
    public Task<TurnDto> GetTurnAsync(Guid turnId, CancellationToken ct = default) =>
        GetAsync<TurnDto>($"api/v1/turns/{turnId}", ct);

    /// <summary>GET /turns/{id}/log/stream path: "log" events carry new output, a final "end" event the outcome.</summary>
    public static string TurnLogStreamPath(Guid turnId, int offset = 0) =>
        $"api/v1/turns/{turnId}/log/stream" + (offset > 0 ? $"?offset={offset}" : "");

    /// <summary>GET /teams/{id}/costs: spend by agent, task and day, and today's spend against the limit.</summary>
    public Task<TeamCostsDto> GetTeamCostsAsync(string team, CancellationToken ct = default) =>
        GetAsync<TeamCostsDto>($"api/v1/teams/{Esc(team)}/costs", ct);
}
