using System.ComponentModel;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;
using ModelContextProtocol.Server;

namespace Entourage.Server.Mcp.Tools;

[McpServerToolType]
public sealed class BudgetTools
{
    public sealed record BudgetView(
        DateOnly Day,
        double SpentTodayUsd,
        double? DailyLimitUsd,
        double? RemainingUsd,
        bool OverBudget,
        double YourSpentTodayUsd,
        long YourInputTokensToday,
        long YourOutputTokensToday,
        string Advice);

    [McpServerTool(Name = "get_budget", ReadOnly = true, Idempotent = true)]
    [Description("Shows today's (UTC) spending of your team against its daily cost limit, and your own share. " +
                 "Check it before starting expensive work; when remaining_usd is low, finish or hand over what you " +
                 "have instead of starting something new. Over the limit the team gets no new turns.")]
    public static async Task<BudgetView> GetBudget(McpCaller caller, AppDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var day = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var rows = await db.UsageRecords.Where(u => u.TeamId == caller.TeamId && u.Day == day)
            .Select(u => new { u.AgentId, u.CostUsd, u.InputTokens, u.OutputTokens }).ToListAsync(ct);
        var spent = rows.Sum(r => r.CostUsd);
        var mine = rows.Where(r => r.AgentId == caller.AgentId).ToList();
        var limit = caller.Team.DailyCostLimitUsd;
        double? remaining = limit is null ? null : Math.Max(0, limit.Value - spent);
        var over = limit is not null && spent >= limit.Value;
        var advice = limit is null ? "No daily limit is set for this team."
            : over ? "The team is over its daily budget: stop, commit what you have, and report (update_task_status or send_message)."
            : remaining < limit * 0.2 ? "Less than 20% of today's budget is left: finish the current step and avoid starting new work."
            : "Within budget.";
        return new BudgetView(day, Math.Round(spent, 6), limit, remaining is null ? null : Math.Round(remaining.Value, 6), over,
            Math.Round(mine.Sum(r => r.CostUsd), 6), mine.Sum(r => r.InputTokens), mine.Sum(r => r.OutputTokens), advice);
    }
}
