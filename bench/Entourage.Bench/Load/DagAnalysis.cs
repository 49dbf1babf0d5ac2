using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Bench.Load;

/// <summary>
/// What a finished DAG run left in the store, checked and measured from the server's own timestamps:
/// <list type="bullet">
/// <item>ready = the task's <c>created</c> event, or its last <c>unblocked</c> event when it had to wait for dependencies;</item>
/// <item>claimed = the start of the first turn on the task (the <c>turn_started</c> moment, written in the claim transaction);</item>
/// <item>dispatch latency = claimed − max(ready, end of the agent's previous turn): the dispatcher's own delay, once
/// the work is ready and its agent free (an agent marks its task done before its process has exited, so the next
/// task of its lane is ready while the agent is still busy);</item>
/// <item>no double dispatch: no agent has two overlapping turns, each task has exactly one succeeded turn, and
/// more than one turn on a task only as a retry (higher attempt).</item>
/// </list>
/// </summary>
public sealed record DagAnalysis(
    int Tasks,
    int Done,
    int Turns,
    int SucceededTurns,
    int FailedTurns,
    int LostTurns,
    int RunningTurns,
    int OverlappingTurnPairs,
    int TasksNeverRun,
    int TasksRunTwice,
    int TasksWithNonRetryExtraTurns,
    int TurnsWithoutTask,
    DateTime LastDoneAt,
    List<double> DispatchMs,
    List<double> ReadyToClaimMs,
    List<string> Problems)
{
    public bool NoDoubleDispatch => OverlappingTurnPairs == 0 && TasksRunTwice == 0 && TasksWithNonRetryExtraTurns == 0;

    public static async Task<DagAnalysis> ReadAsync(IDbContextFactory<AppDbContext> factory, Guid team)
    {
        await using var db = await factory.CreateDbContextAsync();
        var tasks = await db.Tasks.AsNoTracking().Where(t => t.TeamId == team).Select(t => new { t.Id, t.Status, t.CompletedAt }).ToListAsync();
        var turns = await db.Turns.AsNoTracking().Where(t => t.TeamId == team)
            .Select(t => new { t.Id, t.AgentId, t.TaskId, t.State, t.Attempt, t.StartedAt, t.EndedAt }).ToListAsync();
        var events = await db.TaskEvents.AsNoTracking()
            .Where(e => e.TeamId == team && (e.Kind == "created" || e.Kind == "unblocked"))
            .Select(e => new { e.TaskId, e.CreatedAt }).ToListAsync();
        var ready = events.GroupBy(e => e.TaskId).ToDictionary(g => g.Key, g => g.Max(e => e.CreatedAt));
        var problems = new List<string>();

        // Overlap: per agent, in start order, a turn must end before the next one starts.
        var overlaps = 0;
        foreach (var g in turns.GroupBy(t => t.AgentId))
        {
            var ordered = g.OrderBy(t => t.StartedAt).ToList();
            for (var i = 1; i < ordered.Count; i++)
            {
                var prev = ordered[i - 1];
                if (prev.EndedAt is null || prev.EndedAt > ordered[i].StartedAt)
                {
                    overlaps++;
                    problems.Add($"agent {g.Key}: turn {prev.Id} ({prev.StartedAt:O}–{prev.EndedAt:O}) overlaps turn {ordered[i].Id} ({ordered[i].StartedAt:O})");
                }
            }
        }

        var byTask = turns.Where(t => t.TaskId is not null).GroupBy(t => t.TaskId!.Value).ToDictionary(g => g.Key, g => g.OrderBy(t => t.StartedAt).ToList());
        int never = 0, twice = 0, nonRetry = 0;
        var dispatch = new List<double>();
        var readyToClaim = new List<double>();
        var turnsByAgent = turns.GroupBy(t => t.AgentId).ToDictionary(g => g.Key, g => g.OrderBy(t => t.StartedAt).ToList());
        foreach (var task in tasks)
        {
            var list = byTask.GetValueOrDefault(task.Id) ?? [];
            var ok = list.Count(t => t.State == TurnState.Succeeded);
            if (ok == 0) never++;
            if (ok > 1)
            {
                twice++;
                if (problems.Count < 20) problems.Add($"task {task.Id} ({task.Status}): {ok} succeeded turns of {list.Count}");
            }
            for (var i = 1; i < list.Count; i++)
            {
                if (list[i].Attempt <= list[i - 1].Attempt)
                {
                    nonRetry++;
                    if (problems.Count < 20) problems.Add($"task {task.Id}: turn {list[i].Id} (attempt {list[i].Attempt}) is not a retry of {list[i - 1].Id}");
                }
            }
            if (list.Count == 0 || !ready.TryGetValue(task.Id, out var readyAt)) continue;
            var first = list[0];
            var agentTurns = turnsByAgent[first.AgentId];
            var idx = agentTurns.FindIndex(t => t.Id == first.Id);
            var freeAt = idx > 0 && agentTurns[idx - 1].EndedAt is { } end ? end : DateTime.MinValue;
            var from = readyAt > freeAt ? readyAt : freeAt;
            dispatch.Add((first.StartedAt - from).TotalMilliseconds);
            readyToClaim.Add((first.StartedAt - readyAt).TotalMilliseconds);
        }

        return new DagAnalysis(
            tasks.Count,
            tasks.Count(t => t.Status == TaskState.Done),
            turns.Count,
            turns.Count(t => t.State == TurnState.Succeeded),
            turns.Count(t => t.State == TurnState.Failed),
            turns.Count(t => t.State == TurnState.Lost),
            turns.Count(t => t.State == TurnState.Running),
            overlaps,
            never,
            twice,
            nonRetry,
            turns.Count(t => t.TaskId is null),
            tasks.Where(t => t.CompletedAt is not null).Select(t => t.CompletedAt!.Value).DefaultIfEmpty(DateTime.MinValue).Max(),
            dispatch,
            readyToClaim,
            problems);
    }
}
