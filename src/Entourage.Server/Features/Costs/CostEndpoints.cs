using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Features.Teams;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Costs;

/// <summary>
/// GET /teams/{id}/costs?days=N: what the team's agents cost, by agent, task and UTC day (from usage records,
/// one per turn and per report_progress), and today's spend against daily_cost_limit_usd.
/// </summary>
public static class CostEndpoints
{
    public const int MaxDays = 366;

    public static void Map(RouteGroupBuilder api) => api.MapGet("/teams/{team_id}/costs", Get).WithTags("Costs");

    private static async Task<Ok<TeamCostsDto>> Get(string team_id, AppDbContext db, BudgetGuard budget, CancellationToken ct, int? days = null)
    {
        if (days is < 1 or > MaxDays) throw ApiProblem.Invalid("days", $"Give a number of days from 1 to {MaxDays} (default 30).");
        var team = await TeamEndpoints.FindAsync(db, team_id, ct);
        var to = budget.Today;
        var from = to.AddDays(-(days ?? 30) + 1);
        var rows = await db.UsageRecords.AsNoTracking()
            .Where(u => u.TeamId == team.Id && u.Day >= from && u.Day <= to)
            .Select(u => new { u.AgentId, u.TaskId, u.TurnId, u.Day, u.CostUsd, u.InputTokens, u.OutputTokens })
            .ToListAsync(ct);
        var agentIds = rows.Select(r => r.AgentId).Distinct().ToList();
        var names = await db.Agents.AsNoTracking().Where(a => agentIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, a => a.Name, ct);
        var taskIds = rows.Where(r => r.TaskId is not null).Select(r => r.TaskId!.Value).Distinct().ToList();
        var titles = await db.Tasks.AsNoTracking().Where(t => taskIds.Contains(t.Id)).ToDictionaryAsync(t => t.Id, t => t.Title, ct);

        var byAgent = rows.GroupBy(r => r.AgentId)
            .Select(g => new CostByAgentDto(g.Key, names.GetValueOrDefault(g.Key), g.Sum(r => r.CostUsd), g.Sum(r => r.InputTokens), g.Sum(r => r.OutputTokens), g.Where(r => r.TurnId is not null).Select(r => r.TurnId).Distinct().Count()))
            .OrderByDescending(x => x.CostUsd).ToList();
        var byTask = rows.GroupBy(r => r.TaskId)
            .Select(g => new CostByTaskDto(g.Key, g.Key is { } id ? titles.GetValueOrDefault(id) : null, g.Sum(r => r.CostUsd), g.Sum(r => r.InputTokens), g.Sum(r => r.OutputTokens)))
            .OrderByDescending(x => x.CostUsd).ToList();
        var byDay = rows.GroupBy(r => r.Day)
            .Select(g => new CostByDayDto(g.Key, g.Sum(r => r.CostUsd), g.Sum(r => r.InputTokens), g.Sum(r => r.OutputTokens)))
            .OrderBy(x => x.Day).ToList();
        var today = rows.Where(r => r.Day == to).Sum(r => r.CostUsd);
        return TypedResults.Ok(new TeamCostsDto(team.Id, from, to, rows.Sum(r => r.CostUsd), today, team.DailyCostLimitUsd,
            team.DailyCostLimitUsd is { } cap && today >= cap, byAgent, byTask, byDay));
    }
}
