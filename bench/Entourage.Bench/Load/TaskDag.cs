using System.Text.Json.Nodes;

namespace Entourage.Bench.Load;

/// <summary>
/// A seeded random task DAG: every task has an assignee (an agent index) and dependencies on earlier tasks only,
/// so it is acyclic by construction. <c>lanes</c>: task i belongs to agent i mod A and depends on that agent's
/// previous task plus up to two random earlier tasks (each agent has at most one ready task at a time, as when a
/// manager gives each engineer a sequence). <c>random</c>: random assignees, zero to three random earlier tasks.
/// </summary>
public sealed class TaskDag
{
    public const int MaxBatch = 500;

    private TaskDag(List<(int Agent, List<int> Deps)> tasks) => Tasks = tasks;

    public IReadOnlyList<(int Agent, List<int> Deps)> Tasks { get; }

    public int Count => Tasks.Count;

    public int Edges => Tasks.Sum(t => t.Deps.Count);

    public int Roots => Tasks.Count(t => t.Deps.Count == 0);

    public static TaskDag Generate(int count, int agents, string shape, int seed)
    {
        var rng = new Random(seed);
        var tasks = new List<(int, List<int>)>(count);
        for (var i = 0; i < count; i++)
        {
            var deps = new HashSet<int>();
            int agent;
            if (shape == "lanes")
            {
                agent = i % agents;
                if (i >= agents) deps.Add(i - agents);
                var extra = i == 0 ? 0 : rng.Next(3);
                for (var k = 0; k < extra; k++) deps.Add(rng.Next(Math.Max(0, i - 4 * agents), i));
            }
            else
            {
                agent = rng.Next(agents);
                var n = i == 0 ? 0 : rng.Next(4);
                for (var k = 0; k < n; k++) deps.Add(rng.Next(Math.Max(0, i - 100), i));
            }
            tasks.Add((agent, deps.Order().ToList()));
        }
        return new TaskDag(tasks);
    }

    /// <summary>
    /// Batch bodies of at most 500 items: edges inside a batch are <c>depends_on_indices</c>; edges to earlier
    /// batches are <c>depends_on</c> ids, read from <paramref name="ids"/> (filled in as batches are created).
    /// </summary>
    public IEnumerable<(int First, JsonObject Body)> Batches(IReadOnlyList<Guid> agents, long[] ids)
    {
        for (var first = 0; first < Count; first += MaxBatch)
        {
            var items = new JsonArray();
            for (var i = first; i < Math.Min(Count, first + MaxBatch); i++)
            {
                var (agent, deps) = Tasks[i];
                var item = new JsonObject { ["title"] = $"Load task {i}", ["assignee_id"] = agents[agent].ToString() };
                var inBatch = deps.Where(d => d >= first).Select(d => (JsonNode)(d - first)).ToArray();
                var earlier = deps.Where(d => d < first).Select(d => (JsonNode)ids[d]).ToArray();
                if (inBatch.Length > 0) item["depends_on_indices"] = new JsonArray(inBatch);
                if (earlier.Length > 0) item["depends_on"] = new JsonArray(earlier);
                items.Add(item);
            }
            yield return (first, new JsonObject { ["tasks"] = items });
        }
    }
}
