namespace Entourage.Server.Dispatch;

/// <summary>
/// A loop's wake-up: any number of signals while the loop is busy make one pending wake (the loop re-reads state
/// anyway), and a wait returns at the next signal or after its timeout, whichever comes first. Cheap and
/// non-throwing to signal, so it can be signalled from a <see cref="Storage.ChangeFeed.Observe"/> callback.
/// </summary>
public sealed class WakeSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Signal()
    {
        try { if (_signal.CurrentCount == 0) _signal.Release(); }
        catch (SemaphoreFullException) { }
    }

    /// <summary>True when woken by a signal, false when the timeout passed.</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);

    public void Dispose() => _signal.Dispose();
}
