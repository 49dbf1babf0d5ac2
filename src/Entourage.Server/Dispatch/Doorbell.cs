namespace Entourage.Server.Dispatch;

/// <summary>
/// Wakes the dispatcher loop. Carries no data: the claim query is the only source of truth, so a ring that
/// arrives while the loop is busy just makes it look once more.
/// </summary>
public sealed class Doorbell
{
    private readonly WakeSignal _signal = new();
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes at the next ring, for any number of waiters (HTTP runners' long-polling claims); take it before
    /// reading state so a ring in between is not missed.
    /// </summary>
    public Task NextRing => Volatile.Read(ref _next).Task;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, (Guid Team, AgentLaunch Launch)> _expected = new();

    /// <summary>
    /// Notes an agent about to get task work from a write on this node (a dependent made ready by a write that did not
    /// claim its turn itself, see <see cref="TurnSlots"/>), before that write commits (its ring follows the commit).
    /// The dispatcher's next pass claims for it first, in one statement that checks everything itself
    /// (<see cref="QuickClaim"/>), instead of first asking the store who has work. A hint that finds nothing (the
    /// write failed, another pass or node claimed first) costs that statement and changes nothing; it never replaces
    /// the candidates query, which still runs in the same pass and remains the only source of truth about what is
    /// pending. An expected agent goes before older work in that pass, which matters only when the node has fewer free
    /// slots than agents with work. Hints are kept for at most <see cref="MaxExpected"/> agents: a node whose
    /// dispatcher is off, or a burst of status changes, must not grow this without bound.
    /// </summary>
    /// <param name="launch">
    /// What the agent runs as: the claim (the task variant) is made only when that CLI is installed here and the agent
    /// still runs as said (see <see cref="AgentLaunch"/>).
    /// </param>
    public void Expect(Guid agentId, Guid teamId, AgentLaunch launch)
    {
        if (_expected.Count < MaxExpected || _expected.ContainsKey(agentId)) _expected[agentId] = (teamId, launch);
    }

    public const int MaxExpected = 1024;

    /// <summary>Drops the hint for an agent whose turn a write claimed itself (<see cref="TurnSlots"/>): nothing is left to claim.</summary>
    public void Forget(Guid agentId) => _expected.TryRemove(agentId, out _);

    /// <summary>The agents expected since the last call (agent, team, launch), each once.</summary>
    public List<(Guid AgentId, Guid TeamId, AgentLaunch Launch)> TakeExpected()
    {
        if (_expected.IsEmpty) return [];
        var taken = new List<(Guid, Guid, AgentLaunch)>();
        foreach (var agent in _expected.Keys)
            if (_expected.TryRemove(agent, out var e)) taken.Add((agent, e.Team, e.Launch));
        return taken;
    }

    public void Ring()
    {
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        _signal.Signal();
    }

    /// <summary>Waits for a ring or the fallback poll interval, whichever comes first.</summary>
    public Task<bool> WaitAsync(TimeSpan fallback, CancellationToken ct) => _signal.WaitAsync(fallback, ct);
}
