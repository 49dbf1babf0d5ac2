namespace Entourage.Server.Dispatch;

/// <summary>
/// Wakes the dispatcher loop. Carries no data: the claim query is the only source of truth, so a ring that
/// arrives while the loop is busy just makes it look once more.
/// </summary>
public sealed class Doorbell
{
    private readonly SemaphoreSlim _signal = new(0, 1);
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes at the next ring, for any number of waiters (HTTP runners' long-polling claims); take it before
    /// reading state so a ring in between is not missed.
    /// </summary>
    public Task NextRing => Volatile.Read(ref _next).Task;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, Guid> _expected = new();

    /// <summary>
    /// Notes an agent about to get work from a write on this node, before that write commits (its ring follows the
    /// commit). The dispatcher's next pass claims for it first, in one statement that checks everything itself
    /// (<see cref="QuickClaim"/>), instead of first asking the store who has work: the candidates query was a round
    /// trip of its own on the way from a message to its turn. A hint that finds nothing (the write failed, another
    /// pass or node claimed first) costs that statement and changes nothing; it never replaces the candidates query,
    /// which still runs in the same pass and remains the only source of truth about what is pending. An expected
    /// agent goes before older work in that pass, which matters only when the node has fewer free slots than agents
    /// with work. Hints are kept for at most <see cref="MaxExpected"/> agents: a node whose dispatcher is off, or a
    /// flood of messages to unknown ids, must not grow this without bound.
    /// </summary>
    public void Expect(Guid agentId, Guid teamId)
    {
        if (_expected.Count < MaxExpected) _expected[agentId] = teamId;
    }

    public const int MaxExpected = 1024;

    /// <summary>The agents expected since the last call (agent, team), each once.</summary>
    public List<(Guid AgentId, Guid TeamId)> TakeExpected()
    {
        if (_expected.IsEmpty) return [];
        var taken = new List<(Guid, Guid)>();
        foreach (var agent in _expected.Keys)
            if (_expected.TryRemove(agent, out var team)) taken.Add((agent, team));
        return taken;
    }

    public void Ring()
    {
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        // Coalesce: at most one pending ring.
        try { if (_signal.CurrentCount == 0) _signal.Release(); }
        catch (SemaphoreFullException) { }
    }

    /// <summary>Waits for a ring or the fallback poll interval, whichever comes first.</summary>
    public Task<bool> WaitAsync(TimeSpan fallback, CancellationToken ct) => _signal.WaitAsync(fallback, ct);
}
