using System.ComponentModel;
using Entourage.Client.Contracts;
using Entourage.Server.Features.Messages;
using Entourage.Server.Storage;
using ModelContextProtocol.Server;

namespace Entourage.Server.Mcp.Tools;

[McpServerToolType]
public sealed class MessageTools
{
    [McpServerTool(Name = "send_message")]
    [Description("Sends a message from you to another agent of your team; it wakes the recipient, who reads it with get_inbox. " +
                 "Use it for context the code does not show (conventions, decisions, interfaces between tasks). Link it to " +
                 "a task with task_id so it appears in that task's timeline.")]
    public static Task<MessageDto> SendMessage(McpCaller caller, AppDbContext db, TimeProvider clock,
        [Description("Id or name of the agent of your team to send it to (see list_team_agents).")] string recipient_id,
        [Description("The message text.")] string body,
        [Description("Task the message is about.")] long? task_id = null,
        CancellationToken ct = default) =>
        Features.Messages.SendMessage.ExecuteAsync(db, caller.TeamId,
            new SendMessageRequest(caller.AgentId.ToString(), recipient_id, body, task_id), caller.Actor(), clock, ct);

    [McpServerTool(Name = "get_inbox")]
    [Description("Your messages: unread ones first (oldest first, the order to act on them). By default returns only unread " +
                 "messages and marks them read, so calling it again shows only what is new.")]
    public static async Task<InboxDto> GetInbox(McpCaller caller, AppDbContext db, TimeProvider clock,
        [Description("false to include already-read messages (newest first after the unread ones). Default true.")] bool unread_only = true,
        [Description("false to leave the returned messages unread. Default true.")] bool mark_read = true,
        [Description("At most this many messages (default 50).")] int limit = 50,
        CancellationToken ct = default)
    {
        var inbox = await Inbox.GetAsync(db, caller.AgentId, unread_only, limit, ct);
        var unread = inbox.Messages.Where(m => m.ReadAt is null).Select(m => m.Id).ToList();
        if (mark_read && unread.Count > 0) await Inbox.MarkReadAsync(db, caller.AgentId, unread, clock, ct);
        return inbox;
    }
}
