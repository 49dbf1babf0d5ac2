using System.Collections.Concurrent;
using Entourage.Server.Dispatch;

namespace Entourage.Server.Runners.Http;

/// <summary>
/// What an HTTP runner knows between calls: its node id (set at registration, replaced when it registers again),
/// stops the node heartbeat learned for its turns, and the task worktrees it holds in its clones (removed once
/// the server says their task is done or cancelled).
/// </summary>
public sealed class RunnerSession
{
    private readonly ConcurrentDictionary<Guid, TurnStop> _stops = new();
    private readonly ConcurrentDictionary<long, string> _worktrees = new();

    public string NodeId { get; set; } = "";

    public void SetStop(Guid turnId, TurnStop stop) => _stops.TryAdd(turnId, stop);

    public TurnStop? StopOf(Guid turnId) => _stops.TryGetValue(turnId, out var s) ? s : null;

    public void Forget(Guid turnId) => _stops.TryRemove(turnId, out _);

    public void TrackWorktree(long taskId, string path) => _worktrees[taskId] = path;

    public IReadOnlyList<long> WorktreeTasks => [.. _worktrees.Keys];

    public string? TakeWorktree(long taskId) => _worktrees.TryRemove(taskId, out var p) ? p : null;
}
