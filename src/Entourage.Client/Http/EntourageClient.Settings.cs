using Entourage.Client.Contracts;

namespace Entourage.Client;

public sealed partial class EntourageClient
{
    public Task<TeamSettingsDto> GetTeamSettingsAsync(string team, CancellationToken ct = default) =>
        GetAsync<TeamSettingsDto>($"api/v1/settings/teams/{Esc(team)}", ct);

    /// <summary>PATCH with a raw object, because "null clears a limit" must be sent as an explicit JSON null.</summary>
    public Task<TeamSettingsDto> UpdateTeamSettingsAsync(string team, System.Text.Json.Nodes.JsonObject patch, CancellationToken ct = default) =>
        SendAsync<TeamSettingsDto>(HttpMethod.Patch, $"api/v1/settings/teams/{Esc(team)}", patch, ct);
}
