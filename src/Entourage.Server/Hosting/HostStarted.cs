namespace Entourage.Server.Hosting;

/// <summary>Waiting for the host to have started: every hosted service's start done, the API listening.</summary>
public static class HostStarted
{
    /// <summary>Completes once <see cref="IHostApplicationLifetime.ApplicationStarted"/> has fired (at once if it already has).</summary>
    public static async Task WaitAsync(this IHostApplicationLifetime lifetime, CancellationToken ct)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var _ = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(ct);
    }
}
