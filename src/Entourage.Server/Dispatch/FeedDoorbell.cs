using Entourage.Server.Storage;

namespace Entourage.Server.Dispatch;

/// <summary>
/// The in-process doorbell (DESIGN §4, SQLite; also on PostgreSQL for writes made by this node): rings when a
/// dispatch request is added or re-queued, when a turn ends (its agent may have more work waiting) and when a
/// team's settings change (a raised limit may let work start). It rings on the committing thread, right after
/// the commit (a synchronous <see cref="ChangeFeed.Observe"/>), not from a channel reader: that hop cost the
/// latency path a thread-pool wake-up per write, milliseconds on a loaded machine.
/// </summary>
public sealed partial class FeedDoorbell(ChangeFeed feed, Doorbell doorbell, ILogger<FeedDoorbell> logger) : IHostedService, IDisposable
{
    private IDisposable? _observation;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _observation = feed.Observe(e =>
        {
            if (Rings(e)) doorbell.Ring();
        });
        feed.WorkExpected += doorbell.Expect;
        feed.WorkFreed += doorbell.Ring;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        LogStopped(logger);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _observation, null) is { } o)
        {
            o.Dispose();
            feed.WorkExpected -= doorbell.Expect;
            feed.WorkFreed -= doorbell.Ring;
        }
    }

    private static bool Rings(ChangeEvent e) => (e.Kind, e.Op) switch
    {
        ("dispatch_request", "added" or "modified") => true,
        ("turn", "modified") => true,
        ("team", "modified") => true,
        _ => false,
    };

    [LoggerMessage(Level = LogLevel.Debug, Message = "In-process doorbell stopped.")]
    private static partial void LogStopped(ILogger logger);
}
