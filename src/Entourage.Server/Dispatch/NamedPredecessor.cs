using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Dispatch;

/// <summary>
/// What the dead predecessors of a node holding its stable name (<see cref="NodeNameLock"/>) left behind on
/// PostgreSQL: their running turns, claims without a running turn, and node rows still shown alive. The name's
/// lock proves no live process has it, so all of it is dead now; the lease would say so only later.
/// Ids are matched in memory: the sets are small (running turns, live claims) and a SQL LIKE would treat the
/// '_' allowed in names as a wildcard.
/// </summary>
public static class NamedPredecessor
{
    public static async Task<List<Turn>> RunningTurnsAsync(AppDbContext db, string name, string self, CancellationToken ct)
    {
        var running = await db.Turns.AsNoTracking().Where(t => t.State == TurnState.Running && t.Node != self).ToListAsync(ct);
        return [.. running.Where(t => NodeIdentity.CarriesName(t.Node, name))];
    }

    public static string Error(string deadNode, string name) =>
        $"The process that ran this turn ({deadNode}) ended without a clean stop; node {name} started again and holds its name, so the work was returned at its start for another attempt.";

    /// <summary>Claims of the predecessors whose turn is not running (those of its running turns were settled with them): back to pending.</summary>
    public static async Task<int> ReleaseClaimsAsync(AppDbContext db, string name, string self, DateTime now, CancellationToken ct)
    {
        var claimed = await db.DispatchRequests.AsNoTracking()
            .Where(d => d.State == DispatchState.Claimed && d.Owner != null && d.Owner != self
                && !db.Turns.Any(t => t.Id == d.TurnId && t.State == TurnState.Running))
            .Select(d => new { d.Id, d.Owner }).ToListAsync(ct);
        var ids = claimed.Where(d => NodeIdentity.CarriesName(d.Owner!, name)).Select(d => d.Id).ToList();
        if (ids.Count == 0) return 0;
        return await db.DispatchRequests.Where(d => ids.Contains(d.Id) && d.State == DispatchState.Claimed)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.State, DispatchState.Pending).SetProperty(d => d.Owner, (string?)null)
                .SetProperty(d => d.TurnId, (Guid?)null).SetProperty(d => d.LeaseUntil, (DateTime?)null).SetProperty(d => d.UpdatedAt, now), ct);
    }

    /// <summary>GET /nodes shows the predecessors lost now, not a lease later.</summary>
    public static async Task MarkLostAsync(AppDbContext db, string name, string self, CancellationToken ct)
    {
        var live = await db.Nodes.AsNoTracking().Where(n => !n.Lost && n.StoppedAt == null && n.Id != self).Select(n => n.Id).ToListAsync(ct);
        var dead = live.Where(id => NodeIdentity.CarriesName(id, name)).ToList();
        if (dead.Count > 0) await db.Nodes.Where(n => dead.Contains(n.Id)).ExecuteUpdateAsync(s => s.SetProperty(n => n.Lost, true), ct);
    }
}
