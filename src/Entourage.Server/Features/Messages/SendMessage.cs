using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Features.Agents;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Messages;

/// <summary>
/// POST /teams/{team_id}/messages: stores the message and, in the same transaction, the dispatch request that
/// gives the recipient a turn to read it (and, with task_id, the entry in that task's timeline).
/// </summary>
public static class SendMessage
{
    public const int MaxBody = 20_000;
    public const int MaxSenderName = 100;

    public static async Task<MessageDto> ExecuteAsync(AppDbContext db, Guid teamId, SendMessageRequest request, Actor actor, TimeProvider clock, CancellationToken ct)
    {
        if (await QuickSend.TryAsync(db, teamId, request, actor, clock, ct) is { } sent) return sent;
        if (!await db.Teams.AnyAsync(t => t.Id == teamId, ct)) throw ApiProblem.NotFound("team", teamId);
        return await ExecuteInTeamAsync(db, teamId, request, actor, clock, ct);
    }

    /// <summary>The same, for a caller that has just loaded the team (the REST endpoint): one query fewer on the hot path.</summary>
    public static async Task<MessageDto> ExecuteInTeamAsync(AppDbContext db, Guid teamId, SendMessageRequest request, Actor actor, TimeProvider clock, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var refs = new[] { request.SenderId ?? "", request.RecipientId ?? "" };
        var agents = await AgentLookup.ResolveInTeamAsync(db, teamId, refs, ct);

        Agent? recipient = null;
        if (string.IsNullOrWhiteSpace(request.RecipientId))
            errors.Add("recipient_id", "Required: the id (or name) of the agent of this team that should receive the message.");
        else if (!agents.TryGetValue(request.RecipientId.Trim(), out recipient))
            errors.Add("recipient_id", AgentLookup.UnknownMessage(request.RecipientId));

        Agent? sender = null;
        if (request.SenderId is not null && !agents.TryGetValue(request.SenderId.Trim(), out sender))
            errors.Add("sender_id", AgentLookup.UnknownMessage(request.SenderId) + " Omit sender_id (and give sender_name) when a person sends the message.");
        if (sender is not null && request.SenderName is not null)
            errors.Add("sender_name", "Give either sender_id (an agent) or sender_name (a person), not both.");
        if (request.SenderName is { Length: > MaxSenderName }) errors.Add("sender_name", $"At most {MaxSenderName} characters.");
        if (sender is not null && recipient is not null && sender.Id == recipient.Id)
            errors.Add("recipient_id", "An agent cannot message itself; pick another recipient.");

        if (string.IsNullOrWhiteSpace(request.Body)) errors.Add("body", "Required: the message text.");
        else if (request.Body.Length > MaxBody) errors.Add("body", $"At most {MaxBody} characters (got {request.Body.Length}); attach long content to a task description instead.");

        if (request.TaskId is { } taskId)
        {
            var taskTeam = await db.Tasks.Where(t => t.Id == taskId).Select(t => (Guid?)t.TeamId).FirstOrDefaultAsync(ct);
            if (taskTeam is null) errors.Add("task_id", $"Task {taskId} does not exist.");
            else if (taskTeam != teamId) errors.Add("task_id", $"Task {taskId} belongs to another team.");
        }
        errors.ThrowIfAny();

        // A message that names its sender agent is that agent's act, even when a person sent it through REST.
        var by = sender is not null ? Actor.ForAgent(sender) : PersonSender(actor, request);
        var now = clock.GetUtcNow().UtcDateTime;
        var message = new Message
        {
            TeamId = teamId,
            SenderId = sender?.Id,
            SenderName = sender?.Name ?? by.Name,
            RecipientId = recipient!.Id,
            TaskId = request.TaskId,
            Body = request.Body!,
            CreatedAt = now,
        };
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.Messages.Add(message);
        await db.SaveChangesAsync(ct);
        DispatchRequests.Enqueue(db, teamId, recipient.Id, DispatchReason.Message, now, message.TaskId, message.Id.ToString());
        if (message.TaskId is { } linked)
            TaskTimeline.Add(db, linked, teamId, "message", by, now, data: new
            {
                MessageId = message.Id,
                SenderId = sender?.Id,
                SenderName = message.SenderName,
                RecipientId = recipient.Id,
                RecipientName = recipient.Name,
                Body = message.Body.Length > 500 ? message.Body[..500] + "…" : message.Body,
            });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return ToDto(message, recipient.Name);
    }

    /// <summary>Who sent a message that names no sender agent: the person it names (sender_name), else the caller.</summary>
    public static Actor PersonSender(Actor actor, SendMessageRequest request) =>
        actor.Type == ActorType.Human && request.SenderName is { } n ? Actor.Human(n) : actor;

    public static MessageDto ToDto(Message m, string recipientName) =>
        new(m.Id, m.TeamId, m.SenderId, m.SenderName ?? "human", m.RecipientId, recipientName, m.TaskId, m.Body, m.CreatedAt, m.ReadAt);
}
