namespace Entourage.Bench.Load;

/// <summary>
/// Follows a starting server's standard output: Kestrel's "Now listening on: URL" gives the address it bound
/// (port 0), and the host's "Application started" comes once every hosted service has started, so the server is
/// ready when that line arrives, with no polling of /health.
/// </summary>
internal sealed class StartupLog
{
    private const string ListeningMarker = "Now listening on: ";
    private const string StartedMarker = "Application started";

    private readonly TaskCompletionSource<string> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _url;

    /// <summary>Called for each output line, in order (the process's output events are sequential).</summary>
    public void Observe(string line)
    {
        if (line.IndexOf(ListeningMarker, StringComparison.Ordinal) is var at and >= 0)
            _url ??= line[(at + ListeningMarker.Length)..].Trim();
        else if (line.Contains(StartedMarker, StringComparison.Ordinal))
        {
            if (_url is null) _started.TrySetException(new InvalidOperationException("The server started without logging the address it listens on."));
            else _started.TrySetResult(_url);
        }
    }

    public void Fail(Exception e) => _started.TrySetException(e);

    /// <summary>The bound URL, once the server has started; throws if it exits first or after the timeout.</summary>
    public async Task<string> WaitAsync(TimeSpan timeout)
    {
        try
        {
            return await _started.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The server did not start within {timeout.TotalSeconds} s.");
        }
    }
}
