using System.Collections.Concurrent;
using Entourage.Server.Dispatch;

namespace Entourage.Server.Runners.Http;

/// <summary>
/// What an HTTP runner knows between calls: its node id (set at registration, replaced when it registers again),
/// and the stops the node heartbeat learned for its turns.
/// </summary>
public sealed class RunnerSession
{
    private readonly ConcurrentDictionary<Guid, TurnStop> _stops = new();

    public string NodeId { get; set; } = "";

    public void SetStop(Guid turnId, TurnStop stop) => _stops.TryAdd(turnId, stop);

    public TurnStop? StopOf(Guid turnId) => _stops.TryGetValue(turnId, out var s) ? s : null;

    public void Forget(Guid turnId) => _stops.TryRemove(turnId, out _);
}
