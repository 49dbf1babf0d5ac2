using Entourage.Client.Contracts;

namespace Entourage.Client;

public sealed partial class EntourageClient
{
    /// <param name="org">Org id or slug ("default").</param>
    public Task<List<TeamDto>> ListTeamsAsync(string org, CancellationToken ct = default) =>
        GetAsync<List<TeamDto>>($"api/v1/orgs/{Esc(org)}/teams", ct);

    public Task<TeamDto> CreateTeamAsync(string org, CreateTeamRequest request, CancellationToken ct = default) =>
        SendAsync<TeamDto>(HttpMethod.Post, $"api/v1/orgs/{Esc(org)}/teams", request, ct);

    /// <param name="team">Team id or slug.</param>
    public Task<TeamDto> GetTeamAsync(string team, CancellationToken ct = default) =>
        GetAsync<TeamDto>($"api/v1/teams/{Esc(team)}", ct);

    public Task<TeamDto> UpdateTeamAsync(string team, UpdateTeamRequest request, CancellationToken ct = default) =>
        SendAsync<TeamDto>(HttpMethod.Patch, $"api/v1/teams/{Esc(team)}", request, ct);
}
