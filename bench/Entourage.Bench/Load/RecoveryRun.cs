using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Entourage.Bench.Load;

/// <summary>
/// Scenario 2: a node running <c>RecoveryTurns</c> turns is SIGKILLed. PostgreSQL: a second node, already up on
/// the same database, sweeps the expired leases and runs the work again. SQLite (one process per store): the
/// server is started again on the same file. Recovery of a turn = its retry's start (server timestamp) minus the
/// moment of the kill; it is expected near lease + sweep interval (the heartbeat), plus a restart on SQLite.
/// </summary>
public static class RecoveryRun
{
    public sealed record Result(
        string Store, LoadOptions Options, int Turns, List<double> RecoverySeconds, List<double> SweptSeconds,
        double RestartSeconds, int Recovered, int DoubleRuns)
    {
        public bool AllRecovered => Recovered == Turns && DoubleRuns == 0;
    }

    public static async Task<Result> RunAsync(StoreScope store, LoadOptions o)
    {
        var n = Math.Min(o.RecoveryTurns, o.Agents);
        var pidFile = Path.Combine(store.Directory, "blocked.pids");
        var gate = Path.Combine(store.Directory, "gate");
        var settings = store.ServerSettings();
        settings["Dispatch:LeaseSeconds"] = o.LeaseSeconds.ToString(CultureInfo.InvariantCulture);
        settings["Dispatch:HeartbeatSeconds"] = o.HeartbeatSeconds.ToString(CultureInfo.InvariantCulture);
        ChildServer? a = null, b = null;
        try
        {
            a = await ChildServer.StartAsync(store.Directory, settings, "server-recovery-a.log");
            Guid team;
            using (var api = new BenchApi(a.Url))
            {
                List<Guid> agents;
                (team, agents) = await api.CreateTeamAsync("recovery", n, AgentCommands.BlockFirstAttempt(o.Agent, store.Directory, pidFile, gate));
                var items = new JsonArray(agents.Select((x, i) => (JsonNode)new JsonObject { ["title"] = $"Recover {i}", ["assignee_id"] = x.ToString() }).ToArray());
                await api.PostAsync($"/api/v1/teams/{team}/tasks/batch", new JsonObject { ["tasks"] = items });
            }
            var factory = store.Factory();
            await WaitAsync(async () =>
            {
                await using var db = await factory.CreateDbContextAsync();
                var running = await db.Turns.CountAsync(t => t.TeamId == team && t.State == TurnState.Running);
                return running == n && (o.Agent != "curl" || (File.Exists(pidFile) && File.ReadAllLines(pidFile).Length == n));
            }, TimeSpan.FromSeconds(120), "every first-attempt turn to run");

            if (store.IsPostgres)
            {
                var second = new Dictionary<string, string>(settings) { ["Storage:DataDirectory"] = Path.Combine(store.Directory, "data-b") };
                b = await ChildServer.StartAsync(store.Directory, second, "server-recovery-b.log");
            }
            var killedAt = a.Kill();
            var restart = double.NaN;
            if (!store.IsPostgres)
            {
                var sw = Stopwatch.StartNew();
                b = await ChildServer.StartAsync(store.Directory, settings, "server-recovery-b.log");
                restart = sw.Elapsed.TotalSeconds;
            }
            await WaitAsync(async () =>
            {
                await using var db = await factory.CreateDbContextAsync();
                return await db.Tasks.CountAsync(t => t.TeamId == team && t.Status == TaskState.Done) == n
                    && !await db.Turns.AnyAsync(t => t.TeamId == team && t.State == TurnState.Running);
            }, TimeSpan.FromSeconds(60 + 10 * o.LeaseSeconds), "every task to be done after the kill");

            await using var read = await factory.CreateDbContextAsync();
            var turns = await read.Turns.AsNoTracking().Where(t => t.TeamId == team).ToListAsync();
            var recovery = new List<double>();
            var swept = new List<double>();
            var doubles = 0;
            foreach (var g in turns.GroupBy(t => t.TaskId))
            {
                var lost = g.Where(t => t.Attempt == 1).ToList();
                var retry = g.Where(t => t.Attempt > 1).OrderBy(t => t.StartedAt).ToList();
                if (g.Count(t => t.State == TurnState.Succeeded) != 1 || lost.Count != 1) doubles++;
                if (retry.Count == 0) continue;
                recovery.Add((retry[0].StartedAt - killedAt).TotalSeconds);
                if (lost[0].EndedAt is { } end) swept.Add((end - killedAt).TotalSeconds);
            }
            return new Result(store.Name, o, n, recovery, swept, restart, recovery.Count, doubles);
        }
        finally
        {
            AgentCommands.Release(pidFile, gate);
            if (b is not null) await b.DisposeAsync();
            if (a is not null) await a.DisposeAsync();
        }
    }

    /// <summary>The store is in another process: re-check it every 50 ms until the bound that only catches a broken run.</summary>
    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Timed out waiting for " + what);
            await Task.Delay(50);
        }
    }
}
