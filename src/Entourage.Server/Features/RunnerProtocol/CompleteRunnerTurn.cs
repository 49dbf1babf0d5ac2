using Entourage.Client.Contracts;
using Entourage.Server.Agents;
using Entourage.Server.Dispatch;
using Entourage.Server.Hosting;
using Entourage.Server.Security;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.RunnerProtocol;

/// <summary>
/// POST /runner/turns/{turn_id}/complete: ends a runner's turn through <see cref="TurnLedger.CompleteAsync"/>, the
/// path every node's turns take (pushed branch recorded, a failed push fails the turn, requests settled with
/// retries up to max attempts). A turn that already ended (a duplicate of a completion that was answered, or a
/// late one after a cancel or a lease sweep) answers 409 with the turn's state and changes nothing; a late one's
/// cost is still recorded once, as for a local turn.
/// </summary>
public static class CompleteRunnerTurn
{
    public const int MaxError = 4000;

    private static readonly Dictionary<string, (TurnState State, RequestFate Fate)> Outcomes = new(StringComparer.Ordinal)
    {
        ["succeeded"] = (TurnState.Succeeded, RequestFate.Done),
        ["failed"] = (TurnState.Failed, RequestFate.Retry),
        ["cancelled"] = (TurnState.Cancelled, RequestFate.Done),
        ["budget_stopped"] = (TurnState.Cancelled, RequestFate.Requeue),
        ["released"] = (TurnState.Lost, RequestFate.Requeue),
    };

    /// <summary>The wire name of a <see cref="TurnOutcome"/> (what a runner sends).</summary>
    public static string NameOf(TurnOutcome o) => (o.State, o.Fate) switch
    {
        (TurnState.Succeeded, _) => "succeeded",
        (TurnState.Cancelled, RequestFate.Requeue) => "budget_stopped",
        (TurnState.Cancelled, _) => "cancelled",
        (TurnState.Lost, _) => "released",
        _ => "failed",
    };

    public static async Task<Ok<RunnerCompleteResponse>> Handle(string turn_id, RunnerCompleteRequest body, RequestCaller caller, AppDbContext db, TurnLedger ledger, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (body.Outcome is null || !Outcomes.ContainsKey(body.Outcome))
            errors.Add("outcome", $"Required: one of {string.Join(", ", Outcomes.Keys)}.");
        if (body.Error is { Length: > MaxError }) errors.Add("error", $"At most {MaxError} characters.");
        if (body.SessionId is { Length: > 200 }) errors.Add("session_id", "At most 200 characters.");
        if (body.Usage is { } u)
        {
            if (u.InputTokens < 0 || u.OutputTokens < 0 || u.CacheReadTokens < 0 || u.CacheWriteTokens < 0) errors.Add("usage", "Token counts cannot be negative.");
            if (u.CostUsd < 0 || double.IsNaN(u.CostUsd) || double.IsInfinity(u.CostUsd)) errors.Add("usage.cost_usd", "A cost in USD, zero or more.");
            if (u.Model is { Length: > 200 }) errors.Add("usage.model", "At most 200 characters.");
        }
        if (body.Push is { } p)
        {
            if (string.IsNullOrWhiteSpace(p.Branch)) errors.Add("push.branch", "Required with push: the task branch the runner pushed.");
            if ((p.Head is null) == (p.Error is null)) errors.Add("push", "Send push.head (the pushed commit) when the push worked, or push.error when it did not.");
            if (p.Head is { Length: > 64 }) errors.Add("push.head", "A commit id.");
            if (p.Error is { Length: > MaxError }) errors.Add("push.error", $"At most {MaxError} characters.");
        }
        var node = await RunnerProtocolEndpoints.NodeAsync(db, caller, body.NodeId, errors, ct);
        var turn = await RunnerProtocolEndpoints.TurnAsync(db, node, turn_id, ct);
        if (turn.State != TurnState.Running)
        {
            // Already ended. A repeat of an answered completion must not count its cost twice.
            if (turn.EndedAt is not null && !await db.UsageRecords.AnyAsync(r => r.TurnId == turn.Id, ct) && body.Usage is not null)
                await ledger.CompleteAsync(turn, Outcome(body), null, ct);
            throw RunnerProtocolEndpoints.Ended(turn);
        }
        var published = body.Push is { } push ? new TurnPublication(push.Branch!, push.Head, push.Error, push.BaseSha, push.Diff) : null;
        if (!await ledger.CompleteAsync(turn, Outcome(body), published, ct))
        {
            var now = await db.Turns.AsNoTracking().FirstAsync(t => t.Id == turn.Id, ct);
            throw RunnerProtocolEndpoints.Ended(now);
        }
        var after = await db.Turns.AsNoTracking().Where(t => t.Id == turn.Id).Select(t => t.State).FirstAsync(ct);
        return TypedResults.Ok(new RunnerCompleteResponse(turn.Id, EnumNames.ToSnake(after)));
    }

    private static TurnOutcome Outcome(RunnerCompleteRequest body)
    {
        var (state, fate) = Outcomes[body.Outcome!];
        var usage = body.Usage is { } u ? new TurnUsage(u.InputTokens, u.OutputTokens, u.CacheReadTokens, u.CacheWriteTokens, u.CostUsd, u.Model) : null;
        return new TurnOutcome(state, fate, body.ExitCode, body.Error, usage, body.SessionId);
    }
}
