using Entourage.Client.Contracts;
using Entourage.Server.Features.Agents;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Messages;

/// <summary>An agent's inbox: unread first (oldest first, the order to act on them), then read ones, newest first.</summary>
public static class Inbox
{
    public const int MaxLimit = 500;

    public static async Task<InboxDto> GetAsync(AppDbContext db, Guid agentId, bool unreadOnly, int limit, CancellationToken ct)
    {
        if (limit is < 1 or > MaxLimit) throw ApiProblem.Invalid("limit", $"Between 1 and {MaxLimit}.");
        var agent = await AgentLookup.FindAsync(db, agentId, ct);
        var unread = await db.Messages.AsNoTracking().Where(m => m.RecipientId == agentId && m.ReadAt == null)
            .OrderBy(m => m.Id).Take(limit).ToListAsync(ct);
        var unreadCount = await db.Messages.CountAsync(m => m.RecipientId == agentId && m.ReadAt == null, ct);
        var read = unreadOnly || unread.Count >= limit ? [] : await db.Messages.AsNoTracking()
            .Where(m => m.RecipientId == agentId && m.ReadAt != null).OrderByDescending(m => m.Id).Take(limit - unread.Count).ToListAsync(ct);
        return new InboxDto(agentId, unreadCount, unread.Concat(read).Select(m => SendMessage.ToDto(m, agent.Name)).ToList());
    }

    /// <summary>Marks the given messages (or all unread ones) read; ids that are not this agent's messages are a 422 and nothing changes.</summary>
    public static async Task<MarkReadResponse> MarkReadAsync(AppDbContext db, Guid agentId, IReadOnlyList<long>? messageIds, TimeProvider clock, CancellationToken ct)
    {
        await AgentLookup.FindAsync(db, agentId, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var q = db.Messages.Where(m => m.RecipientId == agentId);
        if (messageIds is not null)
        {
            var ids = messageIds.Distinct().ToList();
            var mine = await q.Where(m => ids.Contains(m.Id)).Select(m => m.Id).ToListAsync(ct);
            var foreign = ids.Except(mine).ToList();
            if (foreign.Count > 0)
                throw ApiProblem.Invalid("message_ids", $"Not messages to this agent: {string.Join(", ", foreign)}. Use ids from GET /api/v1/agents/{agentId}/inbox.");
            q = q.Where(m => ids.Contains(m.Id));
        }
        var marked = await q.Where(m => m.ReadAt == null).ExecuteUpdateAsync(s => s.SetProperty(m => m.ReadAt, now), ct);
        var unread = await db.Messages.CountAsync(m => m.RecipientId == agentId && m.ReadAt == null, ct);
        return new MarkReadResponse(agentId, marked, unread);
    }
}
