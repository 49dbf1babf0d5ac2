using Entourage.Server.Storage;

namespace Entourage.Server.Dispatch;

/// <summary>
/// The in-process doorbell (DESIGN §4, SQLite; also on PostgreSQL for writes made by this node): rings when a
/// dispatch request is added or re-queued, when a turn ends (its agent may have more work waiting) and when a
/// team's settings change (a raised limit may let work start).
/// </summary>
public sealed partial class FeedDoorbell(ChangeFeed feed, Doorbell doorbell, ILogger<FeedDoorbell> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var sub = feed.Subscribe(4096);
        try
        {
            await foreach (var e in sub.Reader.ReadAllAsync(stoppingToken))
            {
                if (Rings(e)) doorbell.Ring();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        LogStopped(logger);
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
