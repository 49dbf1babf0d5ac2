using Entourage.Server.Hosting;
using Entourage.Server.Agents;
using Entourage.Server.Features.Agents;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Entourage.Server.Storage;

namespace Entourage.Server.Dispatch;

/// <summary>
/// The claim loop, one per node (DESIGN §4): woken by the doorbell (NOTIFY or in-process) or the fallback poll,
/// it starts a turn for every agent with pending work while this node has free slots (the global semaphore,
/// <c>Dispatch:MaxConcurrentAgents</c>) and the agent's team is within its limits. Shutdown is soft: running
/// turns get <c>Dispatch:ShutdownTimeoutSeconds</c> to finish, then their process trees are killed and their
/// work released to pending for another node or the next start.
/// </summary>
public sealed partial class Dispatcher(
    Claimer claimer,
    TurnSlots slots,
    LocalTurns local,
    Doorbell doorbell,
    ChangeFeed feed,
    BudgetGuard budget,
    IDbContextFactory<AppDbContext> factory,
    IOptions<DispatchOptions> options,
    IHostApplicationLifetime lifetime,
    TimeProvider clock,
    ILogger<Dispatcher> logger) : LoopService(logger, clock), IHostedLifecycleService
{
    /// <summary>Teams found over budget, with the UTC day, so the human request is written once per day.</summary>
    private readonly Dictionary<Guid, DateOnly> _budgetNoticed = [];

    /// <summary>
    /// No turn starts before the API listens: an agent's first call (its status, a message) would be refused. A
    /// restart with work left over claimed it before Kestrel was up, and the agent died on "connection refused".
    /// </summary>
    protected override async Task BeforeLoopAsync(CancellationToken ct)
    {
        await lifetime.WaitAsync(ct);
        // From now on a write may claim its recipient's turn itself, in its own transaction (TurnSlots.Reserve).
        slots.Open();
        feed.Slots = slots;
    }

    protected override async Task<bool> IterateAsync(CancellationToken ct)
    {
        var free = slots.Free;
        if (free <= 0) return false;
        var max = free + 64;
        // One pooled context and connection for the pass: its candidates query and every claim it makes.
        await using var db = await factory.CreateDbContextAsync(ct);
        await db.Database.OpenConnectionAsync(ct);
        var started = 0;
        // Agents a write on this node is giving work first, each in one statement (Doorbell.Expect); then the
        // candidates query, the source of truth, for everything else (and for whatever a hint did not claim).
        foreach (var (agentId, teamId, launch) in doorbell.TakeExpected())
        {
            // Task work is claimed on a hint only for a CLI found here; otherwise the candidates query sees to it.
            if (!slots.Installed(launch.Adapter, launch.ConfigJson)) continue;
            // Every claim holds a slot first: writes on this node claim turns too (TurnSlots.Reserve).
            using var slot = slots.Take();
            if (slot is null) return false;
            if (await claimer.TryExpectedAsync(db, agentId, teamId, launch, ct) is not { } hinted) continue;
            slot.Start(hinted);
            started++;
        }
        var candidates = await claimer.CandidatesAsync(db, claimer.Self, max, ct);
        var blockedTeams = new HashSet<Guid>();
        foreach (var c in candidates)
        {
            if (blockedTeams.Contains(c.TeamId)) continue;
            // An agent whose CLI is not installed here shows offline; its work waits (pending) rather than
            // burning attempts on launches that cannot succeed.
            if (!Installed(c)) continue;
            using var slot = slots.Take();
            if (slot is null) return false;
            var (outcome, claimed) = await claimer.TryClaimAsync(db, claimer.Self, c, ct);
            switch (outcome)
            {
                case ClaimOutcome.Claimed:
                    slot.Start(claimed!);
                    started++;
                    break;
                case ClaimOutcome.TeamAtConcurrencyLimit:
                    blockedTeams.Add(c.TeamId);
                    break;
                case ClaimOutcome.GlobalAtConcurrencyLimit:
                    // Every node is full together: a turn ending anywhere rings the doorbell (turn-end NOTIFY).
                    return started > 0;
                case ClaimOutcome.TeamOverBudget:
                    blockedTeams.Add(c.TeamId);
                    await NoticeOverBudgetAsync(c.TeamId, ct);
                    break;
            }
        }
        // Look again at once only when the list was cut short and this pass made progress with slots left.
        // Anything that arrived during the pass rang the doorbell, so the wait returns at once anyway; an extra
        // query after every claim would only compete with the turn that just started.
        return candidates.Count >= max && started > 0 && slots.Free > 0;
    }

    private bool Installed(ClaimCandidate c) => slots.Installed(c.Adapter, c.ConfigJson);

    protected override Task WaitAsync(CancellationToken ct) => doorbell.WaitAsync(options.Value.Poll, ct);

    private async Task NoticeOverBudgetAsync(Guid teamId, CancellationToken ct)
    {
        var today = budget.Today;
        if (_budgetNoticed.TryGetValue(teamId, out var day) && day == today) return;
        await using var db = await factory.CreateDbContextAsync(ct);
        if (await budget.OverBudgetReasonAsync(db, teamId, ct) is not { } reason) return;
        await budget.EnsureHumanRequestAsync(db, teamId, null, reason, Clock.GetUtcNow().UtcDateTime, ct);
        await db.SaveChangesAsync(ct);
        _budgetNoticed[teamId] = today;
        LogOverBudget(logger, teamId, reason);
    }

    // Soft shutdown drains in StoppingAsync, which the host runs before it stops any hosted service: the web
    // server is still up, so agents finishing their turn can still call the API (report done, send messages).
    Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppingAsync(CancellationToken cancellationToken) => DrainAsync(cancellationToken);

    Task IHostedLifecycleService.StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override Task StopAsync(CancellationToken cancellationToken) => DrainAsync(cancellationToken);

    /// <summary>Stops claiming, lets running turns finish for a while, then kills the rest and releases their work.</summary>
    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // Writes claim no more turns here; one that holds a slot finishes first, so its turn is in the list below.
        await slots.CloseAsync().WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var running = local.All;
        if (running.Count == 0) return;
        var grace = TimeSpan.FromSeconds(Math.Max(0, options.Value.ShutdownTimeoutSeconds));
        LogDraining(logger, running.Count, grace.TotalSeconds);
        var all = Task.WhenAll(running.Select(t => t.Finished.Task));
        await Task.WhenAny(all, Task.Delay(grace, Clock, cancellationToken));
        foreach (var t in local.All) t.Stop(StopKind.Released, "The node shut down before the turn finished; the work was released to another node.");
        await Task.WhenAny(Task.WhenAll(running.Select(t => t.Finished.Task)), Task.Delay(TimeSpan.FromSeconds(10), Clock, CancellationToken.None));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Team {TeamId} is over its daily budget: {Reason}")]
    private static partial void LogOverBudget(ILogger logger, Guid teamId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: waiting up to {Seconds} s for {Count} running turn(s).")]
    private static partial void LogDraining(ILogger logger, int count, double seconds);
}
