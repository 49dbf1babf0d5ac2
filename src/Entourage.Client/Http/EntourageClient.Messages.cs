using Entourage.Client.Contracts;

namespace Entourage.Client;

public sealed partial class EntourageClient
{
    public Task<MessageDto> SendMessageAsync(string team, SendMessageRequest request, CancellationToken ct = default) =>
        SendAsync<MessageDto>(HttpMethod.Post, $"api/v1/teams/{Esc(team)}/messages", request, ct);

    /// <summary>A team's messages, newest first; optionally only those of a task or an agent.</summary>
    public Task<List<MessageDto>> ListMessagesAsync(string team, long? taskId = null, string? agent = null, CancellationToken ct = default) =>
        GetAsync<List<MessageDto>>($"api/v1/teams/{Esc(team)}/messages" + Query(("task_id", taskId?.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("agent_id", agent)), ct);

    public Task<InboxDto> GetInboxAsync(Guid agentId, bool unreadOnly = false, CancellationToken ct = default) =>
        GetAsync<InboxDto>($"api/v1/agents/{agentId}/inbox" + (unreadOnly ? "?unread_only=true" : ""), ct);

    public Task<MarkReadResponse> MarkReadAsync(Guid agentId, MarkReadRequest request, CancellationToken ct = default) =>
        SendAsync<MarkReadResponse>(HttpMethod.Post, $"api/v1/agents/{agentId}/inbox/read", request, ct);
}
