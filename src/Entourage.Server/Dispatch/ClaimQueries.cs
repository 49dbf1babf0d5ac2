using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Dispatch;

/// <summary>
/// The dispatcher's two read queries, compiled: they run on every wake-up and every claim, and as LINQ each paid
/// for walking and hashing its expression tree (parameter extraction, cache lookup) before reaching the store.
/// </summary>
internal static class ClaimQueries
{
    public sealed record CandidateRow(Guid AgentId, Guid TeamId, string Adapter, string ConfigJson, string? AgentLabels, string? TeamLabels);

    public sealed record Gate(int? MaxConcurrentAgents, double? DailyCostLimitUsd, int Running, double Spent, bool AgentBusy, long? CurrentTask);

    /// <summary>Agents with pending requests and no running turn, oldest work first; see <see cref="Claimer.CandidatesAsync(int, CancellationToken)"/>.</summary>
    public static readonly PerModel<Func<AppDbContext, bool, int, IAsyncEnumerable<CandidateRow>>> Candidates = new(() =>
        EF.CompileAsyncQuery((AppDbContext db, bool unpinnedOnly, int max) =>
            (from p in db.DispatchRequests
                 .Where(d => d.State == DispatchState.Pending && !db.Turns.Any(t => t.AgentId == d.AgentId && t.State == TurnState.Running))
                 // Placement: a node without labels never sees pinned agents (so they cannot crowd out its window).
                 .Where(d => !unpinnedOnly || db.Agents.Any(a => a.Id == d.AgentId && a.RunnerLabels == null && db.Teams.Any(t => t.Id == a.TeamId && t.RunnerLabels == null)))
                 .GroupBy(d => new { d.AgentId, d.TeamId })
                 .Select(g => new { g.Key.AgentId, g.Key.TeamId, Priority = g.Min(x => x.Priority), First = g.Min(x => x.Id) })
             // The inner join drops requests of a deleted agent: they can never run.
             join a in db.Agents on p.AgentId equals a.Id
             join t in db.Teams on p.TeamId equals t.Id
             orderby p.Priority, p.First
             select new CandidateRow(p.AgentId, p.TeamId, a.Adapter, a.ConfigJson, a.RunnerLabels, t.RunnerLabels))
            .Take(max).AsNoTracking()));

    /// <summary>The team's limits, its running turns and today's spend, whether the agent is busy, and its current task.</summary>
    public static readonly PerModel<Func<AppDbContext, Guid, Guid, DateOnly, CancellationToken, Task<Gate?>>> GateOf = new(() =>
        EF.CompileAsyncQuery((AppDbContext db, Guid teamId, Guid agentId, DateOnly today, CancellationToken ct) =>
            db.Teams.AsNoTracking().Where(t => t.Id == teamId).Select(t => new Gate(
                t.MaxConcurrentAgents,
                t.DailyCostLimitUsd,
                t.MaxConcurrentAgents == null ? 0 : db.Turns.Count(x => x.TeamId == t.Id && x.State == TurnState.Running),
                t.DailyCostLimitUsd == null ? 0 : db.UsageRecords.Where(u => u.TeamId == t.Id && u.Day == today).Sum(u => (double?)u.CostUsd) ?? 0,
                db.Turns.Any(x => x.AgentId == agentId && x.State == TurnState.Running),
                // The task a turn woken only by messages works on (PickTask): read under the claim's lock, rather
                // than in a query of its own after the claim.
                db.Tasks.Where(x => x.AssigneeId == agentId && x.Status == TaskState.InProgress)
                    .OrderByDescending(x => x.StartedAt).Select(x => (long?)x.Id).FirstOrDefault()))
            .FirstOrDefault()));
}
