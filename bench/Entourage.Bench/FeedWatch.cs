using Entourage.Server.Storage;

namespace Entourage.Bench;

/// <summary>
/// The server's committed changes of the kinds the bench waits for, kept in order from the moment it starts
/// watching, read on the committing thread (<see cref="ChangeFeed.Observe"/>). A feed subscription woke the bench's
/// reader on a thread-pool thread for every change the server committed (a status change publishes four), on the
/// same two cores as the claim being timed; here only the awaited event wakes anyone.
/// </summary>
internal sealed class FeedWatch : IDisposable
{
    private readonly Lock _gate = new();
    private readonly List<ChangeEvent> _events = [];
    private readonly List<(Func<ChangeEvent, bool> Match, TaskCompletionSource<ChangeEvent> Found)> _waits = [];
    private readonly IDisposable _observation;
    private int _cursor;

    public FeedWatch(ChangeFeed feed) => _observation = feed.Observe(Add);

    private void Add(ChangeEvent e)
    {
        if (e.Kind is not ("turn" or "message")) return;
        lock (_gate)
        {
            _events.Add(e);
            for (var i = _waits.Count - 1; i >= 0; i--)
            {
                if (!_waits[i].Match(e)) continue;
                _waits[i].Found.TrySetResult(e);
                _waits.RemoveAt(i);
            }
        }
    }

    /// <summary>The next event of that kind and op (and id) after the last one taken; the ones skipped are dropped.</summary>
    public async Task<ChangeEvent> NextAsync(string kind, string op, string? id = null)
    {
        var e = await FindAsync(kind, op, id);
        lock (_gate) _cursor = Math.Max(_cursor, _events.IndexOf(e) + 1);
        return e;
    }

    /// <summary>Two events in either order (both after the last one taken).</summary>
    public async Task<(ChangeEvent First, ChangeEvent Second)> BothAsync((string Kind, string Op) first, (string Kind, string Op) second)
    {
        var (a, b) = (FindAsync(first.Kind, first.Op, null), FindAsync(second.Kind, second.Op, null));
        var (ea, eb) = (await a, await b);
        lock (_gate) _cursor = Math.Max(_cursor, Math.Max(_events.IndexOf(ea), _events.IndexOf(eb)) + 1);
        return (ea, eb);
    }

    private Task<ChangeEvent> FindAsync(string kind, string op, string? id)
    {
        bool Match(ChangeEvent e) => e.Kind == kind && e.Op == op && (id is null || e.Id == id);
        lock (_gate)
        {
            for (var i = _cursor; i < _events.Count; i++)
                if (Match(_events[i])) return Task.FromResult(_events[i]);
            var found = new TaskCompletionSource<ChangeEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waits.Add((Match, found));
            return found.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    public void Dispose() => _observation.Dispose();
}
