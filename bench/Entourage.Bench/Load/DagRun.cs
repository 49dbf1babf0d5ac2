using System.Diagnostics;
using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;
using static Entourage.Bench.Load.Stats;

namespace Entourage.Bench.Load;

/// <summary>
/// Scenario 1: <c>Agents</c> fake engineers work a seeded <c>Tasks</c>-task DAG on a child server process. Measured
/// in the same run: the raw floor (insert + ring + claim, bench/RawFloor.cs) and the process spawn floor (the
/// agent's process shape, <c>Agents</c> at once).
/// </summary>
public static class DagRun
{
    public sealed record Result(
        string Store, LoadOptions Options, TaskDag Dag, DagAnalysis Analysis, List<double> RawFloorMs, List<double> SpawnMs,
        double SpawnPerSecond, double Seconds, double CreateSeconds, double PeakRssMiB, double IdleRssMiB, double ServerCpu,
        double AgentCpu, bool Stalled, List<string> Stuck, DateTime StartedUtc)
    {
        /// <summary>From the first batch request to the last task's done (server timestamp), or to the stall.</summary>
        public double Makespan => Stalled || Analysis.LastDoneAt == DateTime.MinValue ? Seconds : (Analysis.LastDoneAt - StartedUtc).TotalSeconds;

        public double TasksPerSecond => Analysis.Done / Makespan;
    }

    public static async Task<Result> RunAsync(StoreScope store, LoadOptions o)
    {
        var raw = store.IsPostgres
            ? await RawFloor.PostgresAsync(store.Postgres!, o.FloorSamples, isolated: false)
            : await RawFloor.SqliteAsync(Path.Combine(store.Directory, "raw.db"), o.FloorSamples, isolated: false);
        raw = raw.Skip(Math.Max(5, o.FloorSamples / 10)).ToList();

        var settings = store.ServerSettings();
        settings["Dispatch:MaxConcurrentAgents"] = Math.Max(32, o.Agents).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var server = await ChildServer.StartAsync(store.Directory, settings, "server-dag.log");
        using var api = new BenchApi(server.Url);
        var (team, agents) = await api.CreateTeamAsync("load", o.Agents, AgentCommands.Done(o.Agent, store.Directory));
        var dag = TaskDag.Generate(o.Tasks, o.Agents, o.Dag, o.Seed);

        // The spawn floor, against this idle server: what launching the agents alone costs.
        var spawnN = Math.Clamp(o.Tasks, o.Agents, 300);
        var (spawnMs, spawnRate) = await AgentCommands.SpawnFloorAsync(o.Agent, server.Url, store.Directory, spawnN, o.Agents);
        var idleRss = server.RssMiB();
        var cpuBefore = server.CpuSeconds();

        var factory = store.Factory();
        var startedUtc = DateTime.UtcNow;
        var sw = Stopwatch.StartNew();
        await api.CreateDagAsync(team, dag, agents);
        var createSeconds = sw.Elapsed.TotalSeconds;
        var (stalled, seconds) = await WaitAllDoneAsync(factory, team, o, sw);
        var stuck = stalled ? await StuckAsync(factory, team) : [];
        // Every turn has ended once its process exited; wait for the last completions to commit.
        await WaitNoRunningTurnsAsync(factory, team);
        var peak = server.PeakRssMiB();
        var cpuAfter = server.CpuSeconds();
        await server.StopAsync();

        var analysis = await DagAnalysis.ReadAsync(factory, team);
        return new Result(store.Name, o, dag, analysis, raw, spawnMs, spawnRate, seconds, createSeconds, peak, idleRss,
            cpuAfter.Own - cpuBefore.Own, cpuAfter.Children - cpuBefore.Children, stalled, stuck, startedUtc);
    }

    /// <summary>Re-counts done tasks (the store is in another process) until all are done or nothing moves for <c>StallSeconds</c>.</summary>
    private static async Task<(bool Stalled, double Seconds)> WaitAllDoneAsync(IDbContextFactory<AppDbContext> factory, Guid team, LoadOptions o, Stopwatch sw)
    {
        var last = -1;
        var lastChange = sw.Elapsed;
        while (true)
        {
            int done;
            await using (var db = await factory.CreateDbContextAsync())
                done = await db.Tasks.CountAsync(t => t.TeamId == team && t.Status == TaskState.Done);
            if (done >= o.Tasks) return (false, sw.Elapsed.TotalSeconds);
            if (done != last) (last, lastChange) = (done, sw.Elapsed);
            else if ((sw.Elapsed - lastChange).TotalSeconds > o.StallSeconds) return (true, lastChange.TotalSeconds);
            await Task.Delay(100);
        }
    }

    private static async Task WaitNoRunningTurnsAsync(IDbContextFactory<AppDbContext> factory, Guid team)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            await using var db = await factory.CreateDbContextAsync();
            if (!await db.Turns.AnyAsync(t => t.TeamId == team && t.State == TurnState.Running)) return;
            await Task.Delay(100);
        }
    }

    /// <summary>Tasks not done: ready ones (every dependency done) with and without a pending dispatch request.</summary>
    private static async Task<List<string>> StuckAsync(IDbContextFactory<AppDbContext> factory, Guid team)
    {
        await using var db = await factory.CreateDbContextAsync();
        var open = await db.Tasks.AsNoTracking().Where(t => t.TeamId == team && t.Status != TaskState.Done)
            .Select(t => new
            {
                t.Id,
                t.Status,
                Blocked = db.TaskDependencies.Any(d => d.TaskId == t.Id && db.Tasks.Any(x => x.Id == d.DependsOnId && x.Status != TaskState.Done)),
                Pending = db.DispatchRequests.Any(r => r.TaskId == t.Id && r.State == DispatchState.Pending),
                Handled = db.DispatchRequests.Count(r => r.TaskId == t.Id && r.State == DispatchState.Done),
                Turns = db.Turns.Count(x => x.TaskId == t.Id),
            }).ToListAsync();
        var ready = open.Where(t => !t.Blocked).ToList();
        var lines = new List<string>
        {
            Line($"{open.Count} tasks not done: {ready.Count} ready (every dependency done), {open.Count - ready.Count} waiting on those"),
            Line($"ready ones with a pending dispatch request: {ready.Count(t => t.Pending)}; with none but a request marked done by another task's turn and no turn of their own: {ready.Count(t => !t.Pending && t.Handled > 0 && t.Turns == 0)}"),
        };
        lines.AddRange(ready.Take(5).Select(t => Line($"  task {t.Id} {t.Status}: pending request {t.Pending}, done requests {t.Handled}, turns {t.Turns}")));
        return lines;
    }
}
