using System.Net;
using System.Text.Json.Nodes;
using CsCheck;
using Entourage.Server.Features.Tasks;
using Entourage.Tests.Features;
using Entourage.Tests.Infrastructure;

namespace Entourage.Tests.Properties;

/// <summary>
/// Random task graphs: cycle detection agrees with a reference topological sort; through the real API on a real
/// store, cyclic batches are always rejected with nothing created, acyclic ones always accepted with their
/// edges, and readiness always equals "todo, assigned, every dependency done".
/// </summary>
public sealed class DagProperties
{
    // n items, edges (from → to) meaning "from depends on to", without self-edges.
    internal static readonly Gen<(int N, (int From, int To)[] Edges)> Graphs =
        Gen.Int[1, 12].SelectMany(n => n == 1
            ? Gen.Const((1, Array.Empty<(int, int)>()))
            : Gen.Select(Gen.Int[0, n - 1], Gen.Int[1, n - 1]).Select(e => (e.Item1, (e.Item1 + e.Item2) % n))
                .Array[0, n * 2].Select(edges => (n, edges)));

    internal static bool HasCycle(int n, (int From, int To)[] edges)
    {
        // Kahn: a graph is acyclic exactly when every node can be removed in dependency order.
        var indegree = new int[n];
        foreach (var (from, _) in edges.Distinct()) indegree[from]++;
        var queue = new Queue<int>(Enumerable.Range(0, n).Where(i => indegree[i] == 0));
        var removed = 0;
        while (queue.Count > 0)
        {
            var x = queue.Dequeue();
            removed++;
            foreach (var (from, _) in edges.Distinct().Where(e => e.To == x))
                if (--indegree[from] == 0) queue.Enqueue(from);
        }
        return removed < n;
    }

    private static IReadOnlyList<IReadOnlyList<int>> Adjacency(int n, (int From, int To)[] edges) =>
        Enumerable.Range(0, n).Select(i => (IReadOnlyList<int>)edges.Where(e => e.From == i).Select(e => e.To).ToList()).ToList();

    [Fact]
    public void Cycle_members_exist_exactly_when_a_reference_sort_finds_a_cycle() =>
        Graphs.Sample(g =>
        {
            var members = TaskGraph.CycleMembers(g.N, Adjacency(g.N, g.Edges));
            (members.Count > 0).ShouldBe(HasCycle(g.N, g.Edges));
            // Every reported node reaches itself again; removing all of them leaves an acyclic graph.
            foreach (var m in members)
                TaskGraph.Reaches(m, m, x => x == m ? Adjacency(g.N, g.Edges)[(int)x].Select(y => (long)y) : Adjacency(g.N, g.Edges)[(int)x].Select(y => (long)y))
                    .ShouldBeTrue();
            HasCycle(g.N, g.Edges.Where(e => !members.Contains(e.From) && !members.Contains(e.To)).ToArray()).ShouldBeFalse();
        }, iter: 2000);
}

/// <summary>The same random graphs as batches through the real API, per store.</summary>
public abstract class DagApiProperties(Store store)
{
    [Fact]
    public async Task Batches_through_the_api_reject_cycles_accept_dags_and_readiness_is_every_dependency_done()
    {
        await using var s = await TestServer.StartAsync(store);
        var team = await s.TeamAsync();
        var gen = Gen.Select(DagProperties.Graphs, Gen.Bool.Array[12], Gen.Int[0, 11].Array[0, 12]);
        await gen.SampleAsync(async (g, assigned, finishOrder) =>
        {
            var items = Enumerable.Range(0, g.N).Select(i => new JsonObject
            {
                ["title"] = $"t{i}",
                ["assignee_id"] = assigned[i] ? team.Backend.ToString() : null,
                ["depends_on_indices"] = new JsonArray(g.Edges.Where(e => e.From == i).Select(e => (JsonNode)e.To).ToArray()),
            }).ToArray();
            var before = await s.FingerprintAsync();
            var r = await s.PostAsync($"/api/v1/teams/{team.Id}/tasks/batch", new JsonObject { ["tasks"] = new JsonArray(items) }.ToJsonString());
            if (DagProperties.HasCycle(g.N, g.Edges))
            {
                r.Status.ShouldBe(HttpStatusCode.UnprocessableEntity, r.Text);
                r.Text.ShouldContain("cycle");
                (await s.FingerprintAsync()).ShouldBe(before);
                return;
            }
            r.Status.ShouldBe(HttpStatusCode.Created, r.Text);
            var ids = r.Json["tasks"]!.AsArray().Select(t => t!["id"]!.GetValue<long>()).ToList();
            for (var i = 0; i < g.N; i++)
                r.Json["tasks"]![i]!["depends_on"].Ids().ShouldBe(g.Edges.Where(e => e.From == i).Select(e => ids[e.To]).Distinct().Order().ToList());

            // Try to finish tasks in a random order; the DAG refuses the ones whose dependencies are not done.
            foreach (var k in finishOrder.Where(k => k < g.N))
            {
                var start = await s.StatusAsync(ids[k], "in_progress");
                start.Status.ShouldBeOneOf(HttpStatusCode.OK, HttpStatusCode.Conflict);
                if (start.Status == HttpStatusCode.OK) (await s.StatusAsync(ids[k], "done")).ShouldBe(HttpStatusCode.OK);
            }

            var tasks = (await s.GetAsync($"/api/v1/teams/{team.Id}/tasks")).Json.AsArray().Where(t => ids.Contains(t!["id"]!.GetValue<long>())).ToDictionary(t => t!["id"]!.GetValue<long>());
            foreach (var t in tasks.Values)
            {
                var deps = t!["depends_on"].Ids();
                var allDone = deps.All(d => tasks[d]!["status"].Str() == "done");
                var status = t["status"].Str();
                t["ready"]!.GetValue<bool>().ShouldBe(status == "todo" && allDone && t["assignee_id"] is not null);
                t["blocked_by"].Ids().ShouldBe(deps.Where(d => tasks[d]!["status"].Str() != "done").ToList());
                if (status != "todo") allDone.ShouldBeTrue($"task {t["id"]} is {status} before its dependencies are done");
            }
        }, iter: 40, threads: 1);
    }
}

public sealed class DagApiPropertiesSqlite() : DagApiProperties(Store.Sqlite);

public sealed class DagApiPropertiesPostgres() : DagApiProperties(Store.Postgres);
