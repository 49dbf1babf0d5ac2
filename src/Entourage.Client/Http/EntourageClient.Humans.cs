using Entourage.Client.Contracts;

namespace Entourage.Client;

public sealed partial class EntourageClient
{
    /// <summary>GET /human-requests?team_id=&amp;status= — questions agents asked, oldest first.</summary>
    public Task<List<HumanRequestDto>> ListHumanRequestsAsync(string? team = null, string? status = "pending", CancellationToken ct = default) =>
        GetAsync<List<HumanRequestDto>>("api/v1/human-requests" + Query(("team_id", team), ("status", status)), ct);

    public Task<HumanRequestDto> GetHumanRequestAsync(long id, CancellationToken ct = default) =>
        GetAsync<HumanRequestDto>($"api/v1/human-requests/{id}", ct);

    /// <summary>POST /human-requests/{id}/respond: the answer reaches the agent as a new turn.</summary>
    public Task<HumanRequestDto> RespondToHumanRequestAsync(long id, RespondHumanRequest answer, CancellationToken ct = default) =>
        SendAsync<HumanRequestDto>(HttpMethod.Post, $"api/v1/human-requests/{id}/respond", answer, ct);
}
