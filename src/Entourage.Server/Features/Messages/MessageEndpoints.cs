using Entourage.Client.Contracts;
using Entourage.Server.Features.Agents;
using Entourage.Server.Features.Teams;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Messages;

public static class MessageEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("").WithTags("Messages").WithProblems();
        g.MapPost("/teams/{team_id}/messages", Send).WithSummary("Send a message to an agent of the team; it wakes the recipient.");
        g.MapGet("/teams/{team_id}/messages", List).WithRange("limit", 1, Inbox.MaxLimit).WithSummary("A team's messages, newest first; filter by task_id or agent_id.");
        g.MapGet("/agents/{agent_id}/inbox", GetInbox).WithRange("limit", 1, Inbox.MaxLimit).WithSummary("An agent's inbox, unread first; ?unread_only=true for unread only.");
        g.MapPost("/agents/{agent_id}/inbox/read", MarkRead).WithSummary("Mark messages read (all unread when message_ids is omitted).");
    }

    private static async Task<Created<MessageDto>> Send(string team_id, SendMessageRequest body, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        // The common case first, without EF on the way (it is what wakes agents); anything else takes the full path.
        if (Guid.TryParse(team_id, out var teamId) && await QuickSend.TryAsync(db, teamId, body, Actor.Human(), clock, ct) is { } sent)
            return TypedResults.Created($"/api/v1/teams/{teamId}/messages/{sent.Id}", sent);
        var team = await TeamEndpoints.FindAsync(db, team_id, ct);
        var message = await SendMessage.ExecuteInTeamAsync(db, team.Id, body, Actor.Human(), clock, ct);
        return TypedResults.Created($"/api/v1/teams/{team.Id}/messages/{message.Id}", message);
    }

    private static async Task<Ok<List<MessageDto>>> List(string team_id, AppDbContext db, CancellationToken ct, long? task_id = null, Guid? agent_id = null, int? limit = null)
    {
        var team = await TeamEndpoints.FindAsync(db, team_id, ct);
        var take = limit ?? 200;
        if (take is < 1 or > Inbox.MaxLimit) throw ApiProblem.Invalid("limit", $"Between 1 and {Inbox.MaxLimit}.");
        var q = db.Messages.AsNoTracking().Where(m => m.TeamId == team.Id);
        if (task_id is { } t) q = q.Where(m => m.TaskId == t);
        if (agent_id is { } a) q = q.Where(m => m.RecipientId == a || m.SenderId == a);
        var messages = await q.OrderByDescending(m => m.Id).Take(take).ToListAsync(ct);
        var names = await db.Agents.Where(x => x.TeamId == team.Id).ToDictionaryAsync(x => x.Id, x => x.Name, ct);
        return TypedResults.Ok(messages.Select(m => SendMessage.ToDto(m, names.GetValueOrDefault(m.RecipientId) ?? "(deleted agent)")).ToList());
    }

    private static async Task<Ok<InboxDto>> GetInbox(Guid agent_id, AppDbContext db, CancellationToken ct, bool? unread_only = null, int? limit = null) =>
        TypedResults.Ok(await Inbox.GetAsync(db, agent_id, unread_only ?? false, limit ?? 100, ct));

    private static async Task<Ok<MarkReadResponse>> MarkRead(Guid agent_id, MarkReadRequest? body, AppDbContext db, TimeProvider clock, CancellationToken ct) =>
        TypedResults.Ok(await Inbox.MarkReadAsync(db, agent_id, body?.MessageIds, clock, ct));
}
