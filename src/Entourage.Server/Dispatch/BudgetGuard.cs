using System.Globalization;
using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Dispatch;

/// <summary>
/// Per-team daily cost limit (UTC day, summed from usage_records). A team over its limit starts no new turns,
/// its running turns are stopped, and one human request per team and day says why and how to lift it.
/// </summary>
public sealed class BudgetGuard(TimeProvider clock)
{
    public const string Marker = "daily cost limit";

    public DateOnly Today => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    public Task<double> SpentTodayAsync(AppDbContext db, Guid teamId, CancellationToken ct) => SpentAsync(db, teamId, Today, ct);

    /// <summary>What the team's turns cost on one UTC day.</summary>
    private static async Task<double> SpentAsync(AppDbContext db, Guid teamId, DateOnly day, CancellationToken ct) =>
        await db.UsageRecords.Where(u => u.TeamId == teamId && u.Day == day).SumAsync(u => (double?)u.CostUsd, ct) ?? 0;

    /// <summary>Null when within budget (or no limit), else the reason to show people.</summary>
    public async Task<string?> OverBudgetReasonAsync(AppDbContext db, Guid teamId, CancellationToken ct)
    {
        var team = await db.Teams.AsNoTracking().FirstOrDefaultAsync(t => t.Id == teamId, ct);
        if (team?.DailyCostLimitUsd is not { } cap) return null;
        var spent = await SpentTodayAsync(db, teamId, ct);
        return spent < cap ? null : Reason(team, spent, cap);
    }

    public static string Reason(Team team, double spent, double cap) => string.Create(CultureInfo.InvariantCulture,
        $"Team '{team.Slug}' reached its {Marker} of ${cap:0.00} (spent ${spent:0.0000} today, UTC). No new agent turns start " +
        $"and running ones were stopped until 00:00 UTC. To continue now, raise daily_cost_limit_usd with " +
        $"PATCH /api/v1/settings/teams/{team.Id}.");

    /// <summary>
    /// After a change of the team's limit: if the team is now under it (or has none), today's pending notice of the
    /// stop is answered with what changed, so the inbox of human requests no longer shows a stop that is over.
    /// The caller saves.
    /// </summary>
    public static async Task ResolveIfUnderAsync(AppDbContext db, Team team, DateTime now, CancellationToken ct)
    {
        var spent = await SpentAsync(db, team.Id, DateOnly.FromDateTime(now), ct);
        if (team.DailyCostLimitUsd is { } cap && spent >= cap) return;
        var notices = await db.HumanRequests
            .Where(h => h.TeamId == team.Id && h.Status == HumanRequestStatus.Pending && h.CreatedAt >= now.Date && h.Question.Contains(Marker))
            .ToListAsync(ct);
        foreach (var notice in notices)
        {
            notice.Status = HumanRequestStatus.Answered;
            notice.Answer = team.DailyCostLimitUsd is { } raised
                ? string.Create(CultureInfo.InvariantCulture, $"Resolved: the {Marker} is now ${raised:0.00} (spent ${spent:0.0000} today, UTC); agent turns start again.")
                : $"Resolved: the {Marker} was removed; agent turns start again.";
            notice.AnsweredBy = "entourage";
            notice.AnsweredAt = now;
        }
    }

    /// <summary>Adds (once per team and UTC day) a pending human request explaining the stop.</summary>
    public async Task EnsureHumanRequestAsync(AppDbContext db, Guid teamId, long? taskId, string reason, DateTime now, CancellationToken ct)
    {
        var dayStart = now.Date;
        var exists = await db.HumanRequests.AnyAsync(h => h.TeamId == teamId && h.CreatedAt >= dayStart && h.Question.Contains(Marker), ct);
        if (exists) return;
        db.HumanRequests.Add(new HumanRequest
        {
            TeamId = teamId,
            TaskId = taskId,
            Kind = HumanRequestKind.Approval,
            Question = reason,
            Status = HumanRequestStatus.Pending,
            CreatedAt = now,
        });
    }
}
