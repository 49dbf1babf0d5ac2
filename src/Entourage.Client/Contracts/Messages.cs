namespace Entourage.Client.Contracts;

/// <summary>
/// POST /teams/{team_id}/messages. <c>sender_id</c> and <c>recipient_id</c> are agents of the team (uuid or name);
/// omit <c>sender_id</c> (optionally give <c>sender_name</c>) when a person sends it. <c>task_id</c> links the
/// message to a task of the team (it then appears in the task's timeline).
/// </summary>
public sealed record SendMessageRequest(
    string? SenderId = null,
    string? RecipientId = null,
    string? Body = null,
    long? TaskId = null,
    string? SenderName = null);

public sealed record MessageDto(
    long Id,
    Guid TeamId,
    Guid? SenderId,
    string SenderName,
    Guid RecipientId,
    string RecipientName,
    long? TaskId,
    string Body,
    DateTime CreatedAt,
    DateTime? ReadAt);

/// <summary>GET /agents/{agent_id}/inbox: unread first (oldest first within each group).</summary>
public sealed record InboxDto(Guid AgentId, int UnreadCount, IReadOnlyList<MessageDto> Messages);

/// <summary>POST /agents/{agent_id}/inbox/read: the given messages, or every unread one when <c>message_ids</c> is omitted.</summary>
public sealed record MarkReadRequest(IReadOnlyList<long>? MessageIds = null);

public sealed record MarkReadResponse(Guid AgentId, int Marked, int UnreadCount);
