using Entourage.Client.Contracts;

namespace Entourage.Client;

public sealed partial class EntourageClient
{
    public Task<List<AgentDto>> ListAgentsAsync(string team, CancellationToken ct = default) =>
        GetAsync<List<AgentDto>>($"api/v1/teams/{Esc(team)}/agents", ct);

    public Task<AgentDto> CreateAgentAsync(string team, CreateAgentRequest request, CancellationToken ct = default) =>
        SendAsync<AgentDto>(HttpMethod.Post, $"api/v1/teams/{Esc(team)}/agents", request, ct);

    public Task<AgentDto> GetAgentAsync(Guid agentId, CancellationToken ct = default) =>
        GetAsync<AgentDto>($"api/v1/agents/{agentId}", ct);

    public Task<AgentDto> UpdateAgentAsync(Guid agentId, UpdateAgentRequest request, CancellationToken ct = default) =>
        SendAsync<AgentDto>(HttpMethod.Patch, $"api/v1/agents/{agentId}", request, ct);

    public Task DeleteAgentAsync(Guid agentId, CancellationToken ct = default) =>
        SendAsync<object?>(HttpMethod.Delete, $"api/v1/agents/{agentId}", null, ct);
}
