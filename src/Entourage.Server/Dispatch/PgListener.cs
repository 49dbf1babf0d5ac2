using Entourage.Server.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Entourage.Server.Dispatch;

/// <summary>
/// PostgreSQL doorbell: one dedicated connection per node LISTENs on <c>entourage_dispatch</c> (the trigger on
/// dispatch_requests NOTIFYs it) and rings the <see cref="Doorbell"/>. A dropped connection reconnects and
/// re-LISTENs; whatever was notified meanwhile is found by the ring after reconnecting and the fallback poll.
/// </summary>
public sealed partial class PgListener(
    IOptions<StorageOptions> storage,
    Doorbell doorbell,
    TimeProvider clock,
    ILogger<PgListener> logger) : BackgroundService
{
    public const string Channel = "entourage_dispatch";

    /// <summary>Backend pid of the current LISTEN connection (tests terminate it to prove recovery).</summary>
    public int? BackendPid { get; private set; }

    /// <summary>How many times the LISTEN connection has been (re)established.</summary>
    public int Connects => Volatile.Read(ref _connects);

    private int _connects;

    // Completed (and replaced) at each connect, so a waiter needs no polling (WaitForConnectAsync).
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes once the LISTEN connection has been established more than <paramref name="moreThan"/> times (tests
    /// of recovery: the connects counted before a restart, then wait for the next).
    /// </summary>
    public async Task WaitForConnectAsync(int moreThan, CancellationToken ct)
    {
        while (true)
        {
            // Taken before the count is read: a connect after the read completes this one.
            var next = Volatile.Read(ref _connected).Task;
            if (Connects > moreThan) return;
            await next.WaitAsync(ct);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var b = new NpgsqlConnectionStringBuilder(PostgresConnectionString.Normalize(storage.Value.DatabaseUrl!))
        {
            // A pooled connection could be handed back to EF with LISTEN still on; keep this one apart.
            Pooling = false,
            KeepAlive = 5,
            ApplicationName = "entourage-dispatch-listener",
        };
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var conn = new NpgsqlConnection(b.ConnectionString);
                conn.Notification += (_, _) => doorbell.Ring();
                await conn.OpenAsync(stoppingToken);
                await using (var cmd = new NpgsqlCommand($"LISTEN {Channel}", conn)) await cmd.ExecuteNonQueryAsync(stoppingToken);
                BackendPid = conn.ProcessID;
                Interlocked.Increment(ref _connects);
                Interlocked.Exchange(ref _connected, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                failures = 0;
                LogListening(logger, conn.ProcessID);
                // Anything notified while we were not listening: look once.
                doorbell.Ring();
                while (!stoppingToken.IsCancellationRequested)
                    await conn.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                BackendPid = null;
                failures++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(failures, 6))));
                LogDropped(logger, delay.TotalMilliseconds, ex.Message);
                doorbell.Ring();
                try { await Task.Delay(delay, clock, stoppingToken); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Listening for dispatch notifications (backend pid {Pid}).")]
    private static partial void LogListening(ILogger logger, int pid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dispatch LISTEN connection dropped; reconnecting in {DelayMs} ms: {Error}")]
    private static partial void LogDropped(ILogger logger, double delayMs, string error);
}
