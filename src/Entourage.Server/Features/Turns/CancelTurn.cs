using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Turns;

/// <summary>
/// POST /turns/{id}/cancel: stops a running turn and kills its process tree. On this node the runner is told
/// directly; a turn of another node is ended in the store, and that node's next heartbeat finds it no longer
/// running and kills the process. The work it held is dropped (a person chose to stop it).
/// </summary>
public static class CancelTurn
{
    public const int MaxReasonLength = 1000;

    public static async Task<Ok<TurnDto>> Handle(string turn_id, AppDbContext db, LocalTurns local, TurnCompletion completion, TimeProvider clock, CancellationToken ct, CancelTurnRequest? body = null)
    {
        var turn = await TurnEndpoints.FindAsync(db, turn_id, ct);
        if (body?.Reason is { Length: > MaxReasonLength }) throw ApiProblem.Invalid("reason", $"At most {MaxReasonLength} characters.");
        if (turn.State != TurnState.Running)
            throw ApiProblem.Conflict($"Turn {turn.Id} already ended ({EnumNames.ToSnake(turn.State)}); only a running turn can be cancelled.");
        var reason = "Cancelled by a person" + (string.IsNullOrWhiteSpace(body?.Reason) ? "." : ": " + body.Reason.Trim());

        if (local.TryGet(turn.Id, out var running))
        {
            running.Stop(StopKind.Cancelled, reason);
            await running.Finished.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
        }
        else
        {
            await completion.CompleteAsync(turn, new TurnOutcome(TurnState.Cancelled, RequestFate.Done, null, reason, null, null), ct);
        }
        var after = await db.Turns.AsNoTracking().FirstAsync(t => t.Id == turn.Id, ct);
        if (after.State == TurnState.Running)
            throw new ApiProblem(409, "Conflict", $"Turn {turn.Id} is still stopping; GET /api/v1/turns/{turn.Id} shows when it ended.");
        return TypedResults.Ok(TurnEndpoints.ToDto(after, null, false));
    }
}
