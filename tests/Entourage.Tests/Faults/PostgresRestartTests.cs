using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Tests.Dispatch;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Entourage.Tests.Dispatch.DispatchHarness;

namespace Entourage.Tests.Faults;

/// <summary>
/// PostgreSQL is stopped and started again (seeded: clean "fast" or crash-like "immediate" stops, seeded moments)
/// on a private cluster while FakeAgent engineers work a DAG and receive messages. Afterwards every task is done,
/// every message and every ready task was given to exactly one successful turn, nothing is left running or
/// pending, and the LISTEN connection came back by itself: work created after the last restart is dispatched with
/// the fallback poll switched off, so only a NOTIFY on the re-established LISTEN can wake the dispatcher.
/// </summary>
public sealed class PostgresRestartTests : IAsyncLifetime
{
    private PrivatePostgres _pg = null!;
    private readonly string _records = Directory.CreateTempSubdirectory("entourage-pgrestart-").FullName;

    public async ValueTask InitializeAsync() => _pg = await PrivatePostgres.StartAsync();

    public async ValueTask DisposeAsync()
    {
        await _pg.DisposeAsync();
        try { Directory.Delete(_records, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Fact]
    public Task Restarting_postgres_under_running_turns_loses_and_doubles_nothing_and_dispatch_resumes_by_itself() =>
        FaultSeed.RunAsync("pgrestart", async rng =>
        {
            await using var s = await TestServer.StartAsync(Store.Postgres, FastSettings(new Dictionary<string, string?>
            {
                // No fallback poll: after a restart only the reconnected LISTEN (and its ring on reconnect) wakes dispatch.
                ["Dispatch:PollSeconds"] = "3600",
                // Leases outlast an outage: a live node's turns must not be taken for dead ones.
                ["Dispatch:LeaseSeconds"] = "20",
                ["Dispatch:HeartbeatSeconds"] = "1",
                ["Dispatch:MaxAttempts"] = "50",
            }), postgresConnectionString: _pg.ConnectionString);
            var team = await CreateTeamAsync(s);
            // The agents mark their tasks done themselves (no review loop under test here).
            await DispatchHarnessExtras.PatchSettingsAsync(s, team, """{"require_review": false}""");
            var engineers = new List<Guid>();
            for (var e = 0; e < 3; e++)
                engineers.Add(await AddFakeAgentAsync(s, team, $"eng-{e}", new JsonObject
                {
                    ["record_dir"] = _records,
                    ["steps"] = new JsonArray(
                        Step("sleep", new { ms = rng.Next(200, 1200) }),
                        // Fails while the database is down: the turn fails and its work is retried. A turn woken by
                        // a message alone, after its agent's tasks are done, has no task to finish.
                        Step("http", new { method = "POST", path = "/api/v1/tasks/{task_id}/status", body = new { status = "done" }, with_task = true })),
                }));
            var tasks = await BatchAsync(s, team, engineers, rng, 8, "first");
            var messages = new List<long>();

            var listener = s.Services.GetServices<IHostedService>().OfType<PgListener>().Single();
            var connectsBeforeLastStop = 0;
            var restarts = rng.Next(2, 4);
            for (var r = 0; r < restarts; r++)
            {
                messages.Add(await SendMessageAsync(s, team, engineers[rng.Next(engineers.Count)], $"before restart {r}"));
                await Task.Delay(rng.Next(300, 2000));
                var immediate = rng.Next(2) == 0;
                TestContext.Current.TestOutputHelper?.WriteLine($"restart {r}: {(immediate ? "immediate" : "fast")} stop");
                connectsBeforeLastStop = listener.Connects;
                await _pg.StopServerAsync(immediate);
                await Task.Delay(rng.Next(500, 3000));
                await _pg.StartServerAsync();
            }

            // The LISTEN connection comes back by itself; then new work is woken by NOTIFY alone. (Its pid alone could
            // still be the connection from before the last stop, not yet found dropped: wait for a new connect.)
            using (var reconnect = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                try { await listener.WaitForConnectAsync(connectsBeforeLastStop, reconnect.Token); }
                catch (OperationCanceledException) { throw new TimeoutException($"The LISTEN connection was not re-established within 60 s (connects {listener.Connects})."); }
            }
            tasks.AddRange(await BatchAsync(s, team, engineers, rng, 4, "after"));
            for (var m = 0; m < 3; m++) messages.Add(await SendMessageAsync(s, team, engineers[m], $"after restart {m}"));

            try
            {
                await WaitUntilAsync(s, async db =>
                    await db.Tasks.CountAsync(t => tasks.Contains(t.Id) && t.Status != TaskState.Done) == 0 &&
                    !await db.Turns.AnyAsync(t => t.State == TurnState.Running) &&
                    !await db.DispatchRequests.AnyAsync(d => d.State == DispatchState.Pending || d.State == DispatchState.Claimed),
                    "every task done and nothing running or pending", TimeSpan.FromSeconds(120));
            }
            catch (TimeoutException e)
            {
                await using var diag = Db(s);
                var states = (await diag.Tasks.AsNoTracking().OrderBy(t => t.Id).ToListAsync()).Select(t => $"task {t.Id} {t.Status} assignee {t.AssigneeId} attempts {t.Attempts}");
                var work = (await diag.DispatchRequests.AsNoTracking().OrderBy(d => d.Id).ToListAsync()).Select(d => $"request {d.Id} {d.Reason} task {d.TaskId} agent {d.AgentId} {d.State} attempts {d.Attempts} turn {d.TurnId} {d.LastError}");
                var ran = (await diag.Turns.AsNoTracking().OrderBy(t => t.StartedAt).ToListAsync()).Select(t => $"turn {t.Id} agent {t.AgentId} task {t.TaskId} {t.State} attempt {t.Attempt}");
                throw new TimeoutException($"{e.Message} (listener connects {listener.Connects}, pid {listener.BackendPid})\n{string.Join("\n", states.Concat(work).Concat(ran))}", e);
            }

            await using var db = Db(s);
            var succeeded = await db.Turns.AsNoTracking().Where(t => t.State == TurnState.Succeeded).Select(t => t.Id).ToListAsync();
            var given = succeeded.SelectMany(id =>
            {
                var record = Path.Combine(_records, $"{id}.start.json");
                File.Exists(record).ShouldBeTrue($"succeeded turn {id} has no record of its agent process");
                return JsonNode.Parse(File.ReadAllText(record))!["tags"]!.AsArray().Select(x => x!.ToString());
            }).ToList();
            foreach (var m in messages)
            {
                var request = await db.DispatchRequests.AsNoTracking().Where(d => d.Ref == m.ToString() && d.Reason == DispatchReason.Message)
                    .Select(d => $"{d.State}, {d.Attempts} attempts, last error: {d.LastError}").FirstOrDefaultAsync();
                given.Count(tag => tag == $"[message:{m}]").ShouldBe(1, $"message {m}: successful turns that were given it (its wake-up: {request})");
            }
            var ready = given.Where(tag => tag.StartsWith("[task_ready:", StringComparison.Ordinal)).ToList();
            ready.Distinct().Count().ShouldBe(ready.Count, "a ready task was given to two successful turns");
            (await db.DispatchRequests.CountAsync(d => d.State == DispatchState.Dead)).ShouldBe(0);
            var turns = await db.Turns.AsNoTracking().GroupBy(t => t.State).Select(g => new { g.Key, Count = g.Count() }).ToListAsync();
            TestContext.Current.TestOutputHelper?.WriteLine($"{restarts} restarts, {tasks.Count} tasks, {messages.Count} messages, listener connects {listener.Connects}, turns: " +
                string.Join(", ", turns.Select(t => $"{t.Key}×{t.Count}")));
            listener.Connects.ShouldBeGreaterThan(1);
        });

    private static async Task<List<long>> BatchAsync(TestServer s, Guid team, List<Guid> engineers, Random rng, int n, string label)
    {
        var items = new JsonArray(Enumerable.Range(0, n).Select(i => (JsonNode)new JsonObject
        {
            ["title"] = $"{label} {i}",
            ["assignee_id"] = engineers[rng.Next(engineers.Count)].ToString(),
            ["depends_on_indices"] = new JsonArray(Enumerable.Range(0, i == 0 ? 0 : rng.Next(0, 2)).Select(_ => (JsonNode)rng.Next(i)).ToArray()),
        }).ToArray());
        var created = await s.PostJsonAsync($"/api/v1/teams/{team}/tasks/batch", new JsonObject { ["tasks"] = items }.ToJsonString());
        return created["tasks"]!.AsArray().Select(t => t!["id"]!.GetValue<long>()).ToList();
    }
}
