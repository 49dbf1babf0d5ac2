using System.Threading.Channels;

namespace Entourage.Server.Storage;

/// <summary>What changed, published only after the change is committed. Carries no state: readers re-query.</summary>
/// <param name="Kind">Entity kind in snake_case: task, agent, message, turn, dispatch_request, human_request, review, usage_record, team…</param>
/// <param name="Id">Key of the changed row, as text.</param>
/// <param name="TeamId">Team the row belongs to, when it has one.</param>
/// <param name="Op">added | modified | deleted | log (a turn's log grew).</param>
public sealed record ChangeEvent(string Kind, string Id, Guid? TeamId, string Op, long Seq, DateTime At);

/// <summary>
/// In-process broadcast of committed changes: wakes waiters (POST /tasks/wait), the dispatcher's doorbell, the
/// dashboard and the SSE stream. Subscribers get a bounded channel each; a slow subscriber loses old events,
/// never blocks writers (it must re-read state anyway).
/// </summary>
public sealed class ChangeFeed
{
    /// <summary>How many recent events a reconnecting stream can be given again (SSE Last-Event-ID).</summary>
    public const int RecentCapacity = 4096;

    private readonly Lock _gate = new();
    private readonly List<Channel<ChangeEvent>> _subscribers = [];
    private readonly ChangeEvent?[] _recent = new ChangeEvent?[RecentCapacity];
    private Action<ChangeEvent>[] _observers = [];

    // Numbers start past any an earlier process of this server could have handed out (a thousand per millisecond
    // since 1970), so a stream's Last-Event-ID from before a restart is recognised as such, not replayed from here.
    private readonly long _firstSeq = DateTime.UtcNow.Ticks / TimeSpan.TicksPerMillisecond * 1000;
    private long _seq;

    public ChangeFeed() => _seq = _firstSeq;

    public long LastSeq => Interlocked.Read(ref _seq);

    public void Publish(string kind, string id, Guid? teamId, string op, DateTime at)
    {
        ChangeEvent evt;
        Channel<ChangeEvent>[] subs;
        // Numbered, kept and fanned out under one lock, so a subscriber that asks for what it missed gets each event
        // once: from the kept ones or from its channel, never both, never neither (Subscribe).
        lock (_gate)
        {
            evt = new ChangeEvent(kind, id, teamId, op, ++_seq, at);
            _recent[evt.Seq % RecentCapacity] = evt;
            subs = [.. _subscribers];
        }
        foreach (var o in Volatile.Read(ref _observers)) o(evt);
        foreach (var s in subs) s.Writer.TryWrite(evt);
    }

    /// <summary>
    /// Raised before a write that will give an agent task work commits (a dependent made ready it did not claim itself): a hint
    /// for the dispatcher (taken on PostgreSQL), never an event of the feed. See <see cref="Dispatch.Doorbell.Expect"/>.
    /// </summary>
    public event Action<Guid, Guid, Dispatch.AgentLaunch>? WorkExpected;

    /// <param name="launch">What the agent runs as, read in the write's own transaction.</param>
    public void ExpectWork(Guid agentId, Guid teamId, Dispatch.AgentLaunch launch) => WorkExpected?.Invoke(agentId, teamId, launch);

    /// <summary>
    /// Raised after a commit that may have freed waiting work without writing a wake-up: an engineer's task left
    /// in_progress, so its next ready task's held wake-up (Dispatch.ClaimQueries.HeldSql) can be claimed now rather
    /// than at the fallback poll. Never an event of the feed.
    /// </summary>
    public event Action? WorkFreed;

    public void FreeWork() => WorkFreed?.Invoke();

    /// <summary>
    /// This node's turn slots while its dispatcher runs (null when it runs none, or is draining): a write that gives an
    /// idle agent work claims the agent's turn in its own transaction through them. See <see cref="Dispatch.TurnSlots"/>.
    /// </summary>
    public Dispatch.TurnSlots? Slots
    {
        get => Volatile.Read(ref _slots);
        set => Volatile.Write(ref _slots, value);
    }

    private Dispatch.TurnSlots? _slots;

    /// <summary>
    /// Calls <paramref name="observer"/> synchronously on the committing thread for every event, before any
    /// subscriber sees it. For cheap, non-throwing reactions on the latency path only (ringing the dispatcher's
    /// doorbell): a channel subscriber costs a thread-pool hop per event, milliseconds on a loaded machine.
    /// </summary>
    public IDisposable Observe(Action<ChangeEvent> observer)
    {
        lock (_gate) _observers = [.. _observers, observer];
        return new Observation(this, observer);
    }

    private sealed class Observation(ChangeFeed feed, Action<ChangeEvent> observer) : IDisposable
    {
        public void Dispose()
        {
            lock (feed._gate) feed._observers = [.. feed._observers.Where(o => o != observer)];
        }
    }

    /// <summary>Subscribe before reading state, so nothing that commits after the read can be missed.</summary>
    public Subscription Subscribe(int capacity = 1024) => Subscribe(capacity, after: null, out _);

    /// <summary>
    /// Subscribes and, with <paramref name="after"/> (the last event a client saw), hands back the events since then in
    /// <paramref name="missed"/>, oldest first: null when they cannot all be given (more than <see cref="RecentCapacity"/>
    /// ago, or numbered by an earlier process of the server), and the client must re-read state instead.
    /// </summary>
    public Subscription Subscribe(int capacity, long? after, out List<ChangeEvent>? missed)
    {
        var ch = Channel.CreateBounded<ChangeEvent>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        lock (_gate)
        {
            _subscribers.Add(ch);
            missed = after is not { } from ? [] : from < _firstSeq || from > _seq || _seq - from > RecentCapacity ? null : Since(from);
        }
        return new Subscription(this, ch);
    }

    private List<ChangeEvent> Since(long after)
    {
        var list = new List<ChangeEvent>((int)(_seq - after));
        for (var seq = after + 1; seq <= _seq; seq++) list.Add(_recent[seq % RecentCapacity]!);
        return list;
    }

    private void Remove(Channel<ChangeEvent> ch)
    {
        lock (_gate) _subscribers.Remove(ch);
        ch.Writer.TryComplete();
    }

    public sealed class Subscription(ChangeFeed feed, Channel<ChangeEvent> channel) : IDisposable
    {
        public ChannelReader<ChangeEvent> Reader => channel.Reader;
        public void Dispose() => feed.Remove(channel);
    }
}
