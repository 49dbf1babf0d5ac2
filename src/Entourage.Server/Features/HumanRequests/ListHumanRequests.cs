using Entourage.Client.Contracts;
using Entourage.Server.Features.Teams;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.HumanRequests;

/// <summary>
/// GET /human-requests?team_id=&amp;status=pending: what people must answer, across teams, oldest first (the one
/// that has waited longest blocks an agent longest).
/// </summary>
public static class ListHumanRequests
{
    public static async Task<Ok<List<HumanRequestDto>>> Handle(AppDbContext db, CancellationToken ct,
        string? team_id = null, string? status = null, Guid? agent_id = null, long? task_id = null, int? limit = null, Security.RequestCaller? caller = null)
    {
        var errors = new ValidationErrors();
        HumanRequestStatus? wanted = null;
        if (status is not null)
        {
            if (EnumNames.TryParse<HumanRequestStatus>(status, out var s)) wanted = s;
            else errors.Add("status", $"'{status}' is not a status. Use one of: {EnumNames.Allowed<HumanRequestStatus>()}.");
        }
        if (limit is < 1 or > 1000) errors.Add("limit", "Between 1 and 1000.");
        errors.ThrowIfAny();

        var q = db.HumanRequests.AsQueryable();
        // Across teams an org key sees its org's requests, an agent token its team's (issue #9).
        if (caller?.VisibleTeamIds(db) is { } visible) q = q.Where(h => visible.Contains(h.TeamId));
        if (team_id is not null)
        {
            var team = await TeamEndpoints.FindAsync(db, team_id, ct);
            q = q.Where(h => h.TeamId == team.Id);
        }
        if (wanted is { } w) q = q.Where(h => h.Status == w);
        if (agent_id is { } a) q = q.Where(h => h.AgentId == a);
        if (task_id is { } t) q = q.Where(h => h.TaskId == t);
        var rows = await q.OrderBy(h => h.CreatedAt).ThenBy(h => h.Id).Take(limit ?? 200).ToListAsync(ct);
        var agentIds = rows.Where(r => r.AgentId != null).Select(r => r.AgentId!.Value).Distinct().ToList();
        var names = await db.Agents.Where(x => agentIds.Contains(x.Id)).ToDictionaryAsync(x => x.Id, x => x.Name, ct);
        return TypedResults.Ok(rows.Select(h => HumanRequestViews.ToDto(h, h.AgentId is { } id ? names.GetValueOrDefault(id) : null)).ToList());
    }
}
