using Entourage.Client.Contracts;
using Entourage.Server.Agents;
using Entourage.Server.Dispatch;
using Entourage.Server.Features.Agents;
using Entourage.Server.Hosting;
using Entourage.Server.Runners;
using Entourage.Server.Security;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Entourage.Server.Features.RunnerProtocol;

/// <summary>
/// POST /runner/claim: a long poll for one turn. The server claims on the runner's behalf with the same
/// <see cref="Claimer"/> as every node (its node id, its labels, its capacity counted from the store), so
/// <c>SKIP LOCKED</c>, one running turn per agent, team limits and the global limit hold across database nodes
/// and HTTP runners alike. It waits on the doorbell (in-process changes and PostgreSQL NOTIFY) with the
/// fallback poll, up to <c>wait_seconds</c>; 200 with a <see cref="TurnAssignment"/>, or 204 when nothing came.
/// </summary>
public static partial class ClaimForRunner
{
    public const int MaxWaitSeconds = 25;

    public static async Task<IResult> Handle(RunnerClaimRequest body, RequestCaller caller, HttpContext http, AppDbContext db,
        Claimer claimer, TurnAssignments assignments, TurnLedger ledger, Doorbell doorbell,
        IOptions<DispatchOptions> options, TimeProvider clock, ILoggerFactory loggers, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var wait = body.WaitSeconds ?? MaxWaitSeconds;
        if (wait is < 0 or > MaxWaitSeconds) errors.Add("wait_seconds", $"How long to wait for work: 0 to {MaxWaitSeconds} seconds (default {MaxWaitSeconds}).");
        var adapters = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < (body.Adapters?.Count ?? 0); i++)
        {
            var a = body.Adapters![i];
            if (a is null || !AdapterCatalog.IsKnown(a)) errors.Add($"adapters[{i}]", $"'{a}' is not an adapter. Use one of: {AdapterCatalog.AllowedNames}.");
            else adapters.Add(a);
        }
        var missing = MissingExecutables(body.MissingExecutables, errors);
        var node = await RunnerProtocolEndpoints.NodeAsync(db, caller, body.NodeId, errors, ct);
        var logger = loggers.CreateLogger(typeof(ClaimForRunner));
        // Asking for work is a sign of life too.
        node.HeartbeatAt = clock.GetUtcNow().UtcDateTime;
        node.Lost = false;
        await db.SaveChangesAsync(ct);

        var who = new ClaimingNode(node.Id, new HashSet<string>(NodeLabels.Parse(node.Labels), StringComparer.Ordinal));
        var serverUrl = $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}";
        var deadline = clock.GetUtcNow() + TimeSpan.FromSeconds(wait);
        while (true)
        {
            // Take the ring before looking, so work that arrives while we look wakes the wait below.
            var ring = doorbell.NextRing;
            var running = await db.Turns.CountAsync(t => t.Node == node.Id && t.State == TurnState.Running, ct);
            if (running < node.MaxConcurrentTurns)
            {
                var blockedTeams = new HashSet<Guid>();
                foreach (var c in await claimer.CandidatesAsync(who, 64, ct))
                {
                    if (blockedTeams.Contains(c.TeamId) || (adapters.Count > 0 && !adapters.Contains(c.Adapter))) continue;
                    // As a database node checks before it claims: a turn the runner cannot start would only come back.
                    if (AdapterCatalog.ExecutableOf(c.Adapter, AgentViews.ParseConfig(c.ConfigJson)) is not { } exe || missing.Contains(exe)) continue;
                    var (outcome, claimed) = await claimer.TryClaimAsync(who, c, ct);
                    if (outcome == ClaimOutcome.GlobalAtConcurrencyLimit) break;
                    if (outcome is ClaimOutcome.TeamAtConcurrencyLimit or ClaimOutcome.TeamOverBudget) blockedTeams.Add(c.TeamId);
                    if (claimed is null) continue;
                    // From here the turn is the runner's: if this answer never reaches it, the turn's lease runs
                    // out and the sweeper gives the work another attempt, as for any node that dies.
                    try
                    {
                        var assignment = await assignments.BuildAsync(claimed, serverUrl, CancellationToken.None);
                        LogClaimed(logger, claimed.Turn.Id, claimed.Turn.AgentId, node.Id);
                        return TypedResults.Ok(assignment);
                    }
                    catch (TurnPreparationException ex)
                    {
                        await ledger.AppendLogAsync(claimed.Turn.Id, claimed.Turn.TeamId, "[entourage] could not start the agent: " + ex.Message + "\n", CancellationToken.None);
                        await ledger.CompleteAsync(claimed.Turn, new TurnOutcome(TurnState.Failed, RequestFate.Retry, null, ex.Message, null, null), null, CancellationToken.None);
                    }
                }
            }
            var left = deadline - clock.GetUtcNow();
            if (left <= TimeSpan.Zero) return TypedResults.NoContent();
            var poll = left < options.Value.Poll ? left : options.Value.Poll;
            await Task.WhenAny(ring, Task.Delay(poll, clock, ct));
            ct.ThrowIfCancellationRequested();
        }
    }

    public const int MaxMissingExecutables = 100;

    private static HashSet<string> MissingExecutables(IReadOnlyList<string?>? given, ValidationErrors errors)
    {
        var missing = new HashSet<string>(StringComparer.Ordinal);
        if (given is { Count: > MaxMissingExecutables })
            errors.Add("missing_executables", $"At most {MaxMissingExecutables} executables.");
        else
            for (var i = 0; i < (given?.Count ?? 0); i++)
            {
                if (given![i] is { Length: > 0 and <= 1000 } exe) missing.Add(exe);
                else errors.Add($"missing_executables[{i}]", "An executable's name or path, 1 to 1000 characters.");
            }
        return missing;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Turn {TurnId} of agent {AgentId} claimed for runner node {Node}.")]
    private static partial void LogClaimed(ILogger logger, Guid turnId, Guid agentId, string node);
}
