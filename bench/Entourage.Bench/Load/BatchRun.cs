using System.Diagnostics;
using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Server.Features;
using Entourage.Server.Features.Tasks;
using Entourage.Server.Hosting;
using Entourage.Server.Storage;
using Entourage.Server.Storage.Entities;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Entourage.Bench.Load;

/// <summary>
/// Scenario 3: the same DAG created through POST /teams/{id}/tasks/batch (over HTTP, at most 500 items per
/// batch) and by plain EF inserts of the same rows (tasks, edges, their timeline entries, the roots' dispatch
/// requests: AddRange + SaveChanges in one transaction), alternating, on one in-process server with its
/// dispatcher off (so nothing else writes). A third variant inserts only tasks and edges.
/// </summary>
public static class BatchRun
{
    public sealed record Result(string Store, LoadOptions Options, TaskDag Dag, List<double> ApiMs, List<double> SameRowsMs, List<double> TasksAndEdgesMs);

    public static async Task<Result> RunAsync(StoreScope store, LoadOptions o)
    {
        var config = store.ServerSettings().ToDictionary(kv => kv.Key, kv => (string?)kv.Value);
        config["urls"] = "http://127.0.0.1:0";
        config["Dispatch:Enabled"] = "false";
        config["Logging:LogLevel:Default"] = "Warning";
        // EF logs its probe of a not-yet-created migrations table as an error; it is expected on a fresh store.
        config["Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command"] = "None";
        await using var app = EntourageApp.Build([], b => b.Configuration.AddInMemoryCollection(config));
        await app.StartAsync();
        try
        {
            var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var factory = app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
            using var api = new BenchApi(url);
            var dag = TaskDag.Generate(o.Tasks, o.Agents, o.Dag, o.Seed);
            var (team, agents) = await api.CreateTeamAsync("batch", o.Agents, new JsonObject { ["command"] = "/bin/true" });
            List<double> viaApi = [], same = [], bare = [];
            // One unmeasured round of each warms the JIT and the connection pools.
            for (var rep = -1; rep < o.BatchRepetitions; rep++)
            {
                var sw = Stopwatch.StartNew();
                await api.CreateDagAsync(team, dag, agents);
                if (rep >= 0) viaApi.Add(sw.Elapsed.TotalMilliseconds);
                sw.Restart();
                await InsertAsync(factory, team, dag, agents, sameRows: true);
                if (rep >= 0) same.Add(sw.Elapsed.TotalMilliseconds);
                sw.Restart();
                await InsertAsync(factory, team, dag, agents, sameRows: false);
                if (rep >= 0) bare.Add(sw.Elapsed.TotalMilliseconds);
            }
            return new Result(store.Name, o, dag, viaApi, same, bare);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    /// <summary>The rows the batch API writes, written directly: no validation, no lookups, no HTTP, no JSON.</summary>
    private static async Task InsertAsync(IDbContextFactory<AppDbContext> factory, Guid team, TaskDag dag, List<Guid> agents, bool sameRows)
    {
        await using var db = await factory.CreateDbContextAsync();
        await using var tx = await db.Database.BeginTransactionAsync();
        var now = DateTime.UtcNow;
        var actor = Actor.Human();
        var tasks = dag.Tasks.Select((t, i) => new TaskItem
        {
            TeamId = team,
            Title = $"Load task {i}",
            AssigneeId = agents[t.Agent],
            CreatedAt = now,
            UpdatedAt = now,
        }).ToList();
        db.Tasks.AddRange(tasks);
        await db.SaveChangesAsync();
        for (var i = 0; i < tasks.Count; i++)
        {
            var deps = dag.Tasks[i].Deps.Select(d => tasks[d].Id).ToList();
            db.TaskDependencies.AddRange(deps.Select(d => new TaskDependency { TaskId = tasks[i].Id, DependsOnId = d }));
            if (!sameRows) continue;
            TaskTimeline.Add(db, tasks[i].Id, team, "created", actor, now, to: TaskState.Todo, data: new { tasks[i].Title, DependsOn = deps });
            foreach (var d in deps) TaskTimeline.Add(db, tasks[i].Id, team, "dependency_added", actor, now, data: new { DependsOn = d });
            TaskTimeline.Add(db, tasks[i].Id, team, "assigned", actor, now, data: new { AssigneeId = tasks[i].AssigneeId });
            if (deps.Count == 0) DispatchRequests.Enqueue(db, team, tasks[i].AssigneeId!.Value, DispatchReason.TaskReady, now, tasks[i].Id, tasks[i].Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        await db.SaveChangesAsync();
        await tx.CommitAsync();
    }
}
