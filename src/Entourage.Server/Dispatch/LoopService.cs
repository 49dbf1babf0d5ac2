namespace Entourage.Server.Dispatch;

/// <summary>
/// The one loop skeleton of DESIGN §8 for background services: an iteration returns whether it did work; if it
/// did, run again at once, else wait for a wake-up or the idle delay. Failures back off (capped) instead of
/// spinning, and the last successful iteration is kept for /health.
/// </summary>
public abstract partial class LoopService(ILogger logger, TimeProvider clock) : BackgroundService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    public DateTimeOffset LastIterationAt { get; private set; }

    protected TimeProvider Clock => clock;

    /// <summary>One pass; true when it did work (then the loop runs again without waiting).</summary>
    protected abstract Task<bool> IterateAsync(CancellationToken ct);

    /// <summary>Waits for a wake-up or the idle delay.</summary>
    protected abstract Task WaitAsync(CancellationToken ct);

    protected virtual Task BeforeLoopAsync(CancellationToken ct) => Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting (migrations run in an earlier hosted service) before the first pass.
        await Task.Yield();
        var failures = 0;
        try
        {
            await BeforeLoopAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                bool didWork;
                try
                {
                    didWork = await IterateAsync(stoppingToken);
                    failures = 0;
                    LastIterationAt = clock.GetUtcNow();
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    failures++;
                    var delay = TimeSpan.FromMilliseconds(Math.Min(MaxBackoff.TotalMilliseconds, 100 * Math.Pow(2, Math.Min(failures, 10))));
                    LogIterationFailed(logger, GetType().Name, failures, delay.TotalMilliseconds, ex);
                    await Task.Delay(delay, clock, stoppingToken);
                    continue;
                }
                if (!didWork) await WaitAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Loop} iteration failed ({Failures} in a row); retrying in {DelayMs} ms.")]
    private static partial void LogIterationFailed(ILogger logger, string loop, int failures, double delayMs, Exception ex);
}
