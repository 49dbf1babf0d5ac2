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
