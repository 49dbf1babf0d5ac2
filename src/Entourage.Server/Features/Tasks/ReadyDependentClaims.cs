using Entourage.Server.Dispatch;
using Entourage.Server.Storage;

namespace Entourage.Server.Features.Tasks;

/// <summary>
/// The turns a status change claims for the dependents it made ready, in its own transaction, before its commit:
/// the task's "done" and its dependent's turn commit together, with no dispatcher wake-up and no claim transaction
/// of its own between them. Only on a node whose dispatcher runs and has a free slot (<see cref="TurnSlots.Reserve"/>),
/// for an assignee whose CLI is installed here; the claim is the dispatcher's own:
/// <list type="bullet">
/// <item>PostgreSQL: the task variant of the one-statement claim, for a team without limits, an agent placed on no
/// runner, still running as the change read it; the transaction already holds the team's lock. The first one rides
/// in the change's write batch (<see cref="Tail"/>, no round trip of its own), which then also commits unless other
/// claims remain (<see cref="MoreBeforeCommit"/>); any other, or one whose writes were not a batch, is its own round
/// trip (<see cref="QuickClaim.TryInTransactionAsync"/>).</item>
/// <item>SQLite: the full path (<see cref="Claimer.ClaimInTransactionAsync"/>), limits and all; BEGIN IMMEDIATE made
/// the change the only writer.</item>
/// </list>
/// A dependent whose claim does not happen stays pending for the dispatcher, as before (the commit rings it).
/// </summary>
internal sealed class ReadyDependentClaims : IDisposable
{
    private readonly List<(TurnSlots.Slot Slot, ClaimedTurn Turn, List<TaskWrites.Change>? Changes)> _claimed = [];
    private readonly List<(Guid Agent, Guid Team, AgentLaunch Launch)> _candidates;
    private readonly TurnSlots? _slots;
    private readonly DateTime _now;
    private (TurnSlots.Slot Slot, QuickClaim.Batched Claim)? _batched;

    private ReadyDependentClaims(TurnSlots? slots, List<(Guid, Guid, AgentLaunch)> candidates, DateTime now) =>
        (_slots, _candidates, _now) = (slots, candidates, now);

    /// <summary>
    /// Picks the dependents this node can start (before the change's writes are sent, so the first claim can ride with
    /// them); <paramref name="readied"/> is what <see cref="DagEffects"/> made ready with their assignee's launch.
    /// </summary>
    public static ReadyDependentClaims Prepare(AppDbContext db, IReadOnlyList<DagEffects.Dependent> readied, DateTime now)
    {
        var slots = readied.Count == 0 ? null : db.Changes().Slots;
        var candidates = slots is null ? [] : readied
            .Where(d => d is { AssigneeId: not null, AssigneeLaunch: { } l } && slots.Installed(l.Adapter, l.ConfigJson))
            .Select(d => (d.AssigneeId!.Value, d.TeamId, d.AssigneeLaunch!)).ToList();
        var claims = new ReadyDependentClaims(slots, candidates, now);
        if (db.IsPostgres && candidates.Count > 0 && slots!.Reserve() is { } slot)
        {
            var (agent, team, launch) = candidates[0];
            claims._batched = (slot, new QuickClaim.Batched(slot.NewTurn(now), agent, team, launch));
            candidates.RemoveAt(0);
        }
        return claims;
    }

    /// <summary>The first claim, for the change's write batch (<see cref="TaskWrites.SaveAsync"/>), or null.</summary>
    public TaskWrites.ITail? Tail => _batched?.Claim;

    /// <summary>Whether claims remain for <see cref="ClaimAsync"/> to make in the transaction after the write batch (so it must not commit).</summary>
    public bool MoreBeforeCommit => _candidates.Count > 0;

    /// <summary>
    /// After the change's writes: settles the batched claim (back to its savepoint if it failed), then claims the rest,
    /// before the commit. After a batch that committed there is no rest (<see cref="MoreBeforeCommit"/>) and no failed
    /// claim (its failure stopped the batch before the COMMIT), so this only keeps the batched claim's turn.
    /// </summary>
    public async Task ClaimAsync(AppDbContext db, CancellationToken ct)
    {
        try
        {
            if (_batched is (var slot, var batched))
            {
                if (batched.Ran)
                {
                    await batched.RecoverAsync(db, ct);
                    Keep(slot, batched.Claimed?.Turn, batched.Claimed?.TaskChanges);
                }
                else
                {
                    // The writes were saved without a batch: this one is claimed on its own, like the rest.
                    slot.Dispose();
                    _candidates.Insert(0, (batched.Agent, batched.Team, batched.Launch));
                }
                _batched = null;
            }
            foreach (var (agent, team, launch) in _candidates)
            {
                if (_slots!.Reserve() is not { } next) break;
                var (turn, changes) = await ClaimOneAsync(db, next, agent, team, launch, ct);
                Keep(next, turn, changes);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private void Keep(TurnSlots.Slot slot, ClaimedTurn? turn, List<TaskWrites.Change>? changes)
    {
        if (turn is null)
        {
            slot.Dispose();
            return;
        }
        // The change also named the agent to the dispatcher (Doorbell.Expect); that hint would find nothing now.
        slot.Claimed(turn.Turn.AgentId);
        _claimed.Add((slot, turn, changes));
    }

    private async Task<(ClaimedTurn? Turn, List<TaskWrites.Change>? Changes)> ClaimOneAsync(
        AppDbContext db, TurnSlots.Slot slot, Guid agent, Guid team, AgentLaunch launch, CancellationToken ct)
    {
        try
        {
            if (db.IsPostgres)
                return await QuickClaim.TryInTransactionAsync(db, slot.NewTurn(_now), agent, team, launch, ct) is ({ } t, var c) ? (t, c) : (null, null);
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
        _batched?.Slot.Dispose();
        _batched = null;
    }
}
