using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Server.Features.Tasks;

/// <summary>
/// Where a set of awaited tasks stands: terminal, or stuck for good behind a failed or cancelled dependency
/// (directly or through other todo tasks). Shared by POST /tasks/wait, the MCP wait tool and the wake-up of a
/// manager whose turn ended while it waited.
/// </summary>
public static class WaitStates
{
    private sealed record Node(long Id, TaskState Status, List<long> Deps);

    private sealed record Edge(long TaskId, long DependsOnId, TaskState Status);

    // Compiled: a wait re-reads these on every change of its team's tasks, and the last one settling is the latency
    // a waiting manager (POST /tasks/wait, wait_for_task_completion) feels.
    private static readonly PerModel<Func<AppDbContext, long[], IAsyncEnumerable<TaskItem>>> TasksOf = new(() =>
        EF.CompileAsyncQuery((AppDbContext db, long[] ids) => db.Tasks.AsNoTracking().Where(t => ids.Contains(t.Id))));

    private static readonly PerModel<Func<AppDbContext, long[], IAsyncEnumerable<Edge>>> EdgesOf = new(() =>
        EF.CompileAsyncQuery((AppDbContext db, long[] frontier) =>
            from d in db.TaskDependencies
            join t in db.Tasks on d.DependsOnId equals t.Id
            where frontier.Contains(d.TaskId)
            select new Edge(d.TaskId, d.DependsOnId, t.Status)));

    public static async Task<List<WaitTaskState>> ComputeAsync(AppDbContext db, IReadOnlyCollection<long> ids, CancellationToken ct)
    {
        var tasks = new List<TaskItem>();
        await foreach (var t in TasksOf.For(db)(db, [.. ids]).WithCancellation(ct)) tasks.Add(t);
        var nodes = tasks.ToDictionary(t => t.Id, t => new Node(t.Id, t.Status, []));

        // Walk dependencies only through todo tasks: only they can be stuck, and only their dependencies matter.
        var frontier = tasks.Where(t => t.Status == TaskState.Todo).Select(t => t.Id).ToList();
        var expanded = new HashSet<long>();
        while (frontier.Count > 0)
        {
            expanded.UnionWith(frontier);
            var edges = new List<Edge>();
            await foreach (var e in EdgesOf.For(db)(db, [.. frontier]).WithCancellation(ct)) edges.Add(e);
            var next = new List<long>();
            foreach (var e in edges)
            {
                nodes[e.TaskId].Deps.Add(e.DependsOnId);
                if (!nodes.ContainsKey(e.DependsOnId)) nodes[e.DependsOnId] = new Node(e.DependsOnId, e.Status, []);
                if (e.Status == TaskState.Todo && !expanded.Contains(e.DependsOnId)) next.Add(e.DependsOnId);
            }
            frontier = next.Distinct().ToList();
        }

        var memo = new Dictionary<long, bool>();
        return tasks.OrderBy(t => ids is IList<long> l ? l.IndexOf(t.Id) : 0).ThenBy(t => t.Id).Select(t =>
        {
            var failedDeps = nodes[t.Id].Deps.Where(d => TaskRules.IsFailedEnd(nodes[d].Status)).Order().ToList();
            return new WaitTaskState(t.Id, t.Title, t.Status, t.Status.IsTerminal(), NeverStart(t.Id, nodes, memo),
                t.AssigneeId, failedDeps, t.FailureReason, t.CompletedAt);
        }).ToList();
    }

    /// <summary>True when every task is terminal or can never start: nothing more happens without a person.</summary>
    public static bool Settled(IEnumerable<WaitTaskState> states) => states.All(s => s.Terminal || s.NeverStart);

    private static bool NeverStart(long id, Dictionary<long, Node> nodes, Dictionary<long, bool> memo)
    {
        if (memo.TryGetValue(id, out var known)) return known;
        memo[id] = false; // the DAG is acyclic; this only guards against a corrupt store looping forever
        var n = nodes[id];
        var stuck = n.Status == TaskState.Todo &&
                    n.Deps.Any(d => TaskRules.IsFailedEnd(nodes[d].Status) || NeverStart(d, nodes, memo));
        memo[id] = stuck;
        return stuck;
    }
}
