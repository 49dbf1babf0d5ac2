using Entourage.Server.Dispatch;
using Entourage.Server.Storage;

namespace Entourage.Server.Features.Tasks;

/// <summary>
/// The turns a status change claims for the dependents it made ready, in its own transaction, before its commit:
/// the task's "done" and its dependent's turn commit together, with no dispatcher wake-up and no claim transaction
/// of its own between them. Only on a node whose dispatcher runs and has a free slot (<see cref="TurnSlots.Reserve"/>),
/// for an assignee whose CLI is installed here; the claim is the dispatcher's own:
/// <list type="bullet">
/// <item>PostgreSQL: the task variant of the one-statement claim (<see cref="QuickClaim.TryInTransactionAsync"/>),
/// for a team without limits, an agent placed on no runner, still running as the change read it; the transaction
/// already holds the team's lock.</item>
/// <item>SQLite: the full path (<see cref="Claimer.ClaimInTransactionAsync"/>), limits and all; BEGIN IMMEDIATE made
/// the change the only writer.</item>
/// </list>
/// A dependent whose claim does not happen stays pending for the dispatcher, as before (the commit rings it).
/// </summary>
internal sealed class ReadyDependentClaims : IDisposable
{
    private readonly List<(TurnSlots.Slot Slot, ClaimedTurn Turn, List<TaskWrites.Change>? Changes)> _claimed = [];

    /// <summary>Claims what it can for <paramref name="readied"/>; call after the change's writes and before its commit.</summary>
    public static async Task<ReadyDependentClaims> ClaimAsync(AppDbContext db, IReadOnlyList<DagEffects.Dependent> readied, DateTime now, CancellationToken ct)
    {
        var claims = new ReadyDependentClaims();
        if (readied.Count == 0 || db.Changes().Slots is not { } slots) return claims;
        try
        {
            foreach (var dep in readied)
            {
                if (dep is not { AssigneeId: { } agent, AssigneeLaunch: { } launch }) continue;
                if (!slots.Installed(launch.Adapter, launch.ConfigJson)) continue;
                if (slots.Reserve() is not { } slot) break;
                var (turn, changes) = await ClaimOneAsync(db, slot, agent, dep.TeamId, launch, now, ct);
                if (turn is null)
                {
                    slot.Dispose();
                    continue;
                }
                slot.Claimed(agent);
                claims._claimed.Add((slot, turn, changes));
            }
        }
        catch
        {
            claims.Dispose();
            throw;
        }
        return claims;
    }

    private static async Task<(ClaimedTurn? Turn, List<TaskWrites.Change>? Changes)> ClaimOneAsync(
        AppDbContext db, TurnSlots.Slot slot, Guid agent, Guid team, AgentLaunch launch, DateTime now, CancellationToken ct)
    {
        try
        {
            if (db.IsPostgres)
                return await QuickClaim.TryInTransactionAsync(db, slot.NewTurn(now), agent, team, launch, ct) is ({ } t, var c) ? (t, c) : (null, null);
            var (_, turn, changes) = await slot.ClaimInTransactionAsync(db, new ClaimCandidate(agent, team, launch.Adapter, launch.ConfigJson), ct);
            return (turn, changes);
        }
        catch
        {
            slot.Dispose();
            throw;
        }
    }

    /// <summary>After the commit: publishes each claimed turn (and its task's start), then runs it.</summary>
    public void Start(AppDbContext db)
    {
        foreach (var (slot, turn, changes) in _claimed)
        {
            Claimer.Publish(db, turn, changes);
            slot.Start(turn);
        }
        _claimed.Clear();
    }

    /// <summary>Gives back the slots of claims never started (the change's transaction did not commit).</summary>
    public void Dispose()
    {
        foreach (var (slot, _, _) in _claimed) slot.Dispose();
        _claimed.Clear();
    }
}
