using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Hosting;
using Entourage.Server.Security;
using Entourage.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.RunnerProtocol;

/// <summary>
/// POST /runner/heartbeat: one call per heartbeat interval for the whole node. Renews the node (a lost node that
/// speaks again is active) and, through <see cref="TurnLedger.BeatAsync"/> like any node's turn, the leases of
/// the turns the runner says it runs. Answers which of them must stop (ended elsewhere: cancelled or swept;
/// their task cancelled; over budget) and which of its worktrees belong to finished tasks (done or cancelled) and can go.
/// A turn the runner no longer names gets no renewal: its lease runs out and the sweeper recovers its work.
/// </summary>
public static class RunnerHeartbeat
{
    public const int MaxIds = 1000;

    public static async Task<Ok<RunnerHeartbeatResponse>> Handle(RunnerHeartbeatRequest body, RequestCaller caller, AppDbContext db, TurnLedger ledger, TimeProvider clock, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (body.RunningTurns is { Count: > MaxIds }) errors.Add("running_turns", $"At most {MaxIds} turn ids.");
        if (body.WorktreeTasks is { Count: > MaxIds }) errors.Add("worktree_tasks", $"At most {MaxIds} task ids.");
        var node = await RunnerProtocolEndpoints.NodeAsync(db, caller, body.NodeId, errors, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        node.HeartbeatAt = now;
        node.Lost = false;
        await db.SaveChangesAsync(ct);

        var stops = new List<RunnerTurnStopDto>();
        var ids = (body.RunningTurns ?? []).Distinct().ToList();
        var turns = await db.Turns.AsNoTracking().Where(t => ids.Contains(t.Id) && t.Node == node.Id)
            .Select(t => new { t.Id, t.TeamId, t.TaskId, t.State, t.Error }).ToDictionaryAsync(t => t.Id, ct);
        // A node's own TaskCancellationWatcher stops its local turns of a cancelled task; a runner elsewhere hears it
        // here, or its agent would run on (and push) for a task nobody wants any more.
        var taskIds = turns.Values.Where(t => t.TaskId is not null).Select(t => t.TaskId!.Value).Distinct().ToList();
        var cancelled = taskIds.Count == 0 ? [] : await db.Tasks.AsNoTracking()
            .Where(t => taskIds.Contains(t.Id) && t.Status == TaskState.Cancelled).Select(t => t.Id).ToHashSetAsync(ct);
        foreach (var id in ids)
        {
            if (!turns.TryGetValue(id, out var turn))
            {
                stops.Add(new RunnerTurnStopDto(id, "ended", $"Turn {id} is not a turn of node {node.Id}."));
                continue;
            }
            if (turn.State != TurnState.Running)
            {
                stops.Add(new RunnerTurnStopDto(id, "ended", turn.Error ?? $"The turn ended ({EnumNames.ToSnake(turn.State)})."));
                continue;
            }
            if (turn.TaskId is { } taskId && cancelled.Contains(taskId))
            {
                stops.Add(new RunnerTurnStopDto(id, "ended", $"Task {taskId} was cancelled."));
                continue;
            }
            if (await ledger.BeatAsync(turn.Id, turn.TeamId, turn.TaskId, ct) is { } stop)
                stops.Add(new RunnerTurnStopDto(id, stop.Kind == StopKind.Budget ? "budget" : "ended", stop.Reason));
        }

        var held = (body.WorktreeTasks ?? []).Distinct().ToList();
        var finished = held.Count == 0
            ? []
            : await db.Tasks.AsNoTracking().Where(t => held.Contains(t.Id) && (t.Status == TaskState.Done || t.Status == TaskState.Cancelled))
                .Select(t => t.Id).ToListAsync(ct);
        return TypedResults.Ok(new RunnerHeartbeatResponse(stops, finished));
    }
}
