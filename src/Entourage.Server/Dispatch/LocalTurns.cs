using System.Collections.Concurrent;

namespace Entourage.Server.Dispatch;

/// <summary>How a turn was ended from outside its process.</summary>
public enum StopKind
{
    /// <summary>A person cancelled the turn or its task: the work is dropped.</summary>
    Cancelled,

    /// <summary>The team crossed its daily budget: the work waits (requests back to pending) for budget.</summary>
    Budget,

    /// <summary>This node is shutting down: the lease is released so another node (or a restart) takes over.</summary>
    Released,

    /// <summary>The store no longer has the turn running (cancelled or swept on another node): just stop.</summary>
    External,
}

/// <summary>A turn running on this node: what the cancel endpoint, the budget guard and shutdown act on.</summary>
public sealed class LocalTurn(Guid id, Guid teamId, Guid agentId, long? taskId)
{
    private readonly CancellationTokenSource _stop = new();

    public Guid Id { get; } = id;
    public Guid TeamId { get; } = teamId;
    public Guid AgentId { get; } = agentId;
    public long? TaskId { get; } = taskId;
    public StopKind? StopKind { get; private set; }
    public string? StopReason { get; private set; }
    public CancellationToken StopToken => _stop.Token;
    public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Asks the turn to stop; the first reason wins.</summary>
    public void Stop(StopKind kind, string reason)
    {
        lock (_stop)
        {
            if (StopKind is not null) return;
            StopKind = kind;
            StopReason = reason;
        }
        _stop.Cancel();
    }
}

/// <summary>Registry of this node's running turns (the global semaphore counts them).</summary>
public sealed class LocalTurns
{
    private readonly ConcurrentDictionary<Guid, LocalTurn> _turns = new();

    public int Count => _turns.Count;

    public IReadOnlyCollection<LocalTurn> All => [.. _turns.Values];

    public bool TryGet(Guid id, out LocalTurn turn) => _turns.TryGetValue(id, out turn!);

    public void Add(LocalTurn turn) => _turns[turn.Id] = turn;

    public void Remove(Guid id) => _turns.TryRemove(id, out _);
}
