using Entourage.Server.Agents;
using Entourage.Server.Features.Agents;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Dispatch;

/// <summary>
/// This node's turn slots (the global semaphore, <c>Dispatch:MaxConcurrentAgents</c>) and what starts a claimed turn
/// in one of them. Every claim holds a slot while it is made, so the two kinds of claimer never overfill the node
/// together: the dispatcher's passes (<see cref="Take"/>), and a write that claims its recipient's turn in its own
/// transaction (<see cref="Reserve"/>: a message to an idle agent, a dependent made ready). Writes may claim only
/// while the dispatcher runs, so a node that runs none, or is draining, never starts a turn from a write.
/// </summary>
public sealed partial class TurnSlots(
    LocalTurnStarter runner,
    Claimer claimer,
    LocalTurns local,
    Doorbell doorbell,
    AdapterCatalog adapters,
    NodeIdentity node,
    IOptions<DispatchOptions> options,
    ILogger<TurnSlots> logger)
{
    private readonly Lock _gate = new();
    private int _reserved;
    private bool _open;
    private TaskCompletionSource? _drained;

    /// <summary>A labelled node claims only what its labels allow, which the candidates query works out.</summary>
    private readonly bool _labelled = Runners.NodeLabels.Parse(Runners.NodeLabels.FromConfig(options.Value.Labels)).Count > 0;

    /// <summary>Slots neither running a turn nor held by a write that is claiming one.</summary>
    public int Free
    {
        get
        {
            lock (_gate) return FreeLocked;
        }
    }

    private int FreeLocked => options.Value.MaxConcurrentAgents - local.Count - _reserved;

    /// <summary>Whether the agent's CLI can be launched on this node (AdapterCatalog caches the lookup briefly).</summary>
    public bool Installed(string adapter, string configJson) => adapters.Check(adapter, AgentViews.ParseConfig(configJson)).Available;

    /// <inheritdoc cref="AdapterCatalog.Launchable"/>
    public List<(string Adapter, string Executable)> Launchable() => adapters.Launchable();

    /// <summary>Writes may claim from now on (the dispatcher's loop has started: the API listens).</summary>
    public void Open()
    {
        lock (_gate) _open = true;
    }

    /// <summary>
    /// No write claims from now on; completes when every write that held a slot has started its turn or given the
    /// slot back, so the caller's list of running turns (the drain's) misses none of them.
    /// </summary>
    public Task CloseAsync()
    {
        lock (_gate)
        {
            _open = false;
            if (_reserved == 0) return Task.CompletedTask;
            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drained.Task;
        }
    }

    /// <summary>
    /// A slot for a write that will claim a turn in its own transaction, or null: the dispatcher is not running
    /// here, this node is full, or its claims need more than such a write checks (runner labels, the cluster-wide
    /// limit: both are the dispatcher's). Dispose it unused when the claim did not happen.
    /// </summary>
    public Slot? Reserve()
    {
        if (options.Value.GlobalMaxConcurrentAgents is not null || _labelled) return null;
        lock (_gate)
        {
            if (!_open) return null;
            return TakeLocked(write: true);
        }
    }

    /// <summary>A slot for the dispatcher's next claim, or null when this node is full.</summary>
    public Slot? Take()
    {
        lock (_gate) return TakeLocked(write: false);
    }

    private Slot? TakeLocked(bool write)
    {
        if (FreeLocked <= 0) return null;
        _reserved++;
        return new Slot(this, write);
    }

    private void Start(ClaimedTurn claimed)
    {
        var t = claimed.Turn;
        var lt = new LocalTurn(t.Id, t.TeamId, t.AgentId, t.TaskId);
        lock (_gate)
        {
            // In the running list before the slot is given back: a drain waiting on this slot then sees the turn.
            local.Add(lt);
            ReleaseLocked();
        }
        Run(claimed, lt);
    }

    private Task<(ClaimOutcome Outcome, ClaimedTurn? Turn, List<Features.Tasks.TaskWrites.Change>? TaskChanges)> ClaimInTransactionAsync(
        Storage.AppDbContext db, ClaimCandidate agent, CancellationToken ct) => claimer.ClaimInTransactionAsync(db, claimer.Self, agent, ct);

    private void ForgetHint(Guid agentId) => doorbell.Forget(agentId);

    private ClaimQueries.NewTurn NewTurn(DateTime now) => ClaimQueries.NewTurn.Create(node.Id, now, options.Value.Lease);

    /// <summary>How many turns writes on this node claimed in their own transaction (diagnostics; tests check the path is taken).</summary>
    public long WriteClaims => Interlocked.Read(ref _writeClaims);

    private long _writeClaims;

    /// <summary>How many of those claims were given back because the agent's CLI is not installed here.</summary>
    public long WriteClaimsGivenBack => Interlocked.Read(ref _givenBack);

    private long _givenBack;

    private void Release()
    {
        lock (_gate) ReleaseLocked();
    }

    private void ReleaseLocked()
    {
        _reserved--;
        if (_reserved == 0 && _drained is { } d)
        {
            _drained = null;
            d.TrySetResult();
        }
    }

    private void Run(ClaimedTurn claimed, LocalTurn lt)
    {
        var t = claimed.Turn;
        _ = Task.Run(async () =>
        {
            try
            {
                await runner.RunAsync(claimed, lt);
            }
            catch (Exception ex)
            {
                LogTurnCrashed(logger, t.Id, ex);
            }
            finally
            {
                local.Remove(t.Id);
                lt.Finished.TrySetResult();
                // A slot is free and the agent may have more waiting: look again now.
                doorbell.Ring();
            }
        });
    }

    /// <summary>A slot held while a claim is made; <see cref="Start"/> it with the claimed turn, or dispose it.</summary>
    public sealed class Slot(TurnSlots slots, bool write) : IDisposable
    {
        private int _done;

        public bool Installed(string adapter, string configJson) => slots.Installed(adapter, configJson);

        /// <inheritdoc cref="AdapterCatalog.Launchable"/>
        internal List<(string Adapter, string Executable)> Launchable() => slots.Launchable();

        /// <summary>The turn a claim in this slot inserts: this node's, with the configured lease from <paramref name="now"/>.</summary>
        internal ClaimQueries.NewTurn NewTurn(DateTime now) => slots.NewTurn(now);

        /// <summary>
        /// Drops the dispatcher's hint for the agent (the write named it, <see cref="Doorbell.Expect"/>) once the write
        /// has claimed its turn itself, before its commit rings: that claim would find nothing.
        /// </summary>
        internal void Claimed(Guid agentId) => slots.ForgetHint(agentId);

        /// <summary>The full path's claim for <paramref name="agent"/> in the caller's open transaction (<see cref="Claimer.ClaimInTransactionAsync"/>), as this node.</summary>
        internal Task<(ClaimOutcome Outcome, ClaimedTurn? Turn, List<Features.Tasks.TaskWrites.Change>? TaskChanges)> ClaimInTransactionAsync(
            Storage.AppDbContext db, ClaimCandidate agent, CancellationToken ct) => slots.ClaimInTransactionAsync(db, agent, ct);

        /// <summary>Runs the turn claimed in this slot (after the claim's commit).</summary>
        public void Start(ClaimedTurn claimed)
        {
            if (Interlocked.Exchange(ref _done, 1) != 0) return;
            if (write) Interlocked.Increment(ref slots._writeClaims);
            slots.Start(claimed);
        }

        /// <summary>The claim made in this slot was given back (the agent's CLI is missing here): the slot is free again.</summary>
        internal void GivenBack()
        {
            Interlocked.Increment(ref slots._givenBack);
            Dispose();
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) slots.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Turn {TurnId} runner crashed.")]
    private static partial void LogTurnCrashed(ILogger logger, Guid turnId, Exception ex);
}
