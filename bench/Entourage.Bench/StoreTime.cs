using System.Collections.Concurrent;
using System.Diagnostics;

namespace Entourage.Bench;

/// <summary>
/// The time PostgreSQL commands took, from Npgsql's own command activities (its "Npgsql" activity source): each lasts
/// from the command's send to its last result read, so it is the store's work plus the round trip, as the server
/// process sees it. Used to split a sample of (b) or (c) into the store's part and the rest (HTTP, C#, publishing).
/// Listening costs every command an activity, so only the loop that splits samples listens.
/// </summary>
internal sealed class StoreTime : IDisposable
{
    private readonly ConcurrentQueue<(DateTime Start, TimeSpan Duration)> _commands = new();
    private readonly ActivityListener _listener;

    public StoreTime()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = a => _commands.Enqueue((a.StartTimeUtc, a.Duration)),
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>
    /// The commands that started and ended between <paramref name="from"/> and <paramref name="to"/>, in ms, summed;
    /// every command recorded so far is then forgotten. A sample's window holds its request's commands, and at most
    /// some of the dispatcher's (a pass woken by the last turn's end), so this is an upper bound of the request's.
    /// </summary>
    public double TakeBetween(DateTime from, DateTime to)
    {
        var sum = TimeSpan.Zero;
        while (_commands.TryDequeue(out var c))
            if (c.Start >= from && c.Start + c.Duration <= to) sum += c.Duration;
        return sum.TotalMilliseconds;
    }

    public void Dispose() => _listener.Dispose();
}
