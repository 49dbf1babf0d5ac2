using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;

namespace Entourage.Server.Features.Reviews;

/// <summary>
/// A message from the system or a person to an agent, added to the caller's transaction together with the
/// dispatch request that gives the agent a turn to read it: review feedback, merge failures, human answers,
/// plan feedback. The request references the message, so the agent's next prompt carries its text (and get_inbox).
/// A null <c>reason</c> only files the message: for news the agent gets another way (a wait that returns it).
/// </summary>
public static class AgentNotice
{
    public static async Task<Message> AddAsync(AppDbContext db, Guid teamId, Guid recipientId, string senderName, long? taskId,
        string body, DispatchReason? reason, DateTime now, CancellationToken ct)
    {
        var message = new Message
        {
            TeamId = teamId,
            RecipientId = recipientId,
            SenderName = senderName,
            TaskId = taskId,
            Body = body,
            CreatedAt = now,
        };
        db.Messages.Add(message);
        // The id is the dispatch request's reference; the caller's transaction keeps both or neither.
        await db.SaveChangesAsync(ct);
        if (reason is { } wake) DispatchRequests.Enqueue(db, teamId, recipientId, wake, now, taskId, message.Id.ToString());
        return message;
    }
}
