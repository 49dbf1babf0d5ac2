using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Entourage.Bench.Load;
using Microsoft.Data.Sqlite;
using static Entourage.Tests.Infrastructure.ChildServerHttp;

namespace Entourage.Tests.Faults;

/// <summary>
/// SQLite: the server process is SIGKILLed while many clients write at once (single tasks, batches, messages).
/// After every kill the database file passes PRAGMA integrity_check, every write that was acknowledged with a 2xx
/// before the kill is there, and every batch is all or nothing (also the ones cut off mid-flight). Several kill
/// rounds on the same data directory, each at a seeded moment.
/// </summary>
public sealed class SqliteKillDuringWritesTests : IDisposable
{
    private const int Rounds = 3;
    private const int Writers = 12;
    private readonly string _dir = Directory.CreateTempSubdirectory("entourage-sqlitekill-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static readonly Dictionary<string, string> NoDispatch = new() { ["Dispatch:Enabled"] = "false" };

    private sealed record Acked(string Kind, string Key, int Items);

    [Fact]
    public Task Killing_the_server_mid_write_keeps_the_file_sound_and_every_acknowledged_write() =>
        FaultSeed.RunAsync("sqlitekill", async rng =>
        {
            var acked = new ConcurrentBag<Acked>();
            var sentBatches = new ConcurrentDictionary<string, int>();
            string team = "", agent = "";
            for (var round = 0; round < Rounds; round++)
            {
                using var server = await FaultServer.StartAsync(_dir, null, NoDispatch);
                if (round == 0)
                {
                    var org = (await GetAsync(server.Http, "/api/v1/orgs")).AsArray()[0]!["id"]!.ToString();
                    var t = await PostAsync(server.Http, $"/api/v1/orgs/{org}/teams", """{"name": "Writers", "slug": "writers"}""");
                    team = t["id"]!.ToString();
                    // Messages go to the manager; with the dispatcher off no agent CLI is launched (writes are under test).
                    agent = t["manager"]!["id"]!.ToString();
                }
                // Kill after a seeded number of acknowledged writes in this round, so the kill lands mid-stream.
                var killAfter = rng.Next(40, 250);
                var ackedThisRound = 0;
                var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var seeds = Enumerable.Range(0, Writers).Select(_ => rng.Next()).ToArray();
                var writers = seeds.Select((seed, w) => Task.Run(async () =>
                {
                    var r = new Random(seed);
                    for (var n = 0; !killed.Task.IsCompleted; n++)
                    {
                        var key = $"r{round}-w{w}-n{n}";
                        try
                        {
                            switch (r.Next(3))
                            {
                                case 0:
                                    await PostAsync(server.Http, $"/api/v1/teams/{team}/tasks", new JsonObject { ["title"] = key, ["description"] = new string('d', r.Next(0, 4000)) }.ToJsonString());
                                    acked.Add(new Acked("task", key, 1));
                                    break;
                                case 1:
                                    var items = r.Next(2, 12);
                                    sentBatches[key] = items;
                                    var batch = new JsonArray(Enumerable.Range(0, items).Select(i => (JsonNode)new JsonObject
                                    {
                                        ["title"] = $"{key}-{i}",
                                        ["depends_on_indices"] = i == 0 ? new JsonArray() : new JsonArray(r.Next(i)),
                                    }).ToArray());
                                    await PostAsync(server.Http, $"/api/v1/teams/{team}/tasks/batch", new JsonObject { ["tasks"] = batch }.ToJsonString());
                                    acked.Add(new Acked("batch", key, items));
                                    break;
                                default:
                                    await PostAsync(server.Http, $"/api/v1/teams/{team}/messages", new JsonObject { ["recipient_id"] = agent, ["body"] = key, ["sender_name"] = "writer" }.ToJsonString());
                                    acked.Add(new Acked("message", key, 1));
                                    break;
                            }
                            if (Interlocked.Increment(ref ackedThisRound) == killAfter) killed.TrySetResult();
                        }
                        catch (Exception) when (killed.Task.IsCompleted)
                        {
                            return; // the server is gone: this write was never acknowledged
                        }
                    }
                })).ToList();
                await killed.Task.WaitAsync(TimeSpan.FromSeconds(120));
                server.Kill();
                await Task.WhenAll(writers);
                await CheckFileAsync(acked, sentBatches);
            }
            // And the server starts again on the killed store and serves what it holds.
            using var last = await FaultServer.StartAsync(_dir, null, NoDispatch);
            (await GetAsync(last.Http, $"/api/v1/teams/{team}/tasks?limit=1")).AsArray().Count.ShouldBe(1);
            TestContext.Current.TestOutputHelper?.WriteLine($"{Rounds} kills, {acked.Count} acknowledged writes, {sentBatches.Count} batches sent");
        });

    /// <summary>Reads the killed server's file directly (as the next start would): sound, complete, no half batch.</summary>
    private async Task CheckFileAsync(ConcurrentBag<Acked> acked, ConcurrentDictionary<string, int> sentBatches)
    {
        var db = Path.Combine(_dir, ".entourage", "entourage.db");
        await using var conn = new SqliteConnection($"Data Source={db};Pooling=False");
        await conn.OpenAsync();
        await using (var cmd = conn.CreateCommand())
        {
            cmd.CommandText = "PRAGMA integrity_check";
            (await cmd.ExecuteScalarAsync())!.ToString().ShouldBe("ok");
        }
        var titles = new HashSet<string>();
        await using (var cmd = conn.CreateCommand())
        {
            cmd.CommandText = "SELECT title FROM tasks";
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync()) titles.Add(reader.GetString(0));
        }
        var bodies = new HashSet<string>();
        await using (var cmd = conn.CreateCommand())
        {
            cmd.CommandText = "SELECT body FROM messages";
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync()) bodies.Add(reader.GetString(0));
        }
        foreach (var a in acked)
        {
            switch (a.Kind)
            {
                case "task": titles.ShouldContain(a.Key, "an acknowledged task is missing"); break;
                case "message": bodies.ShouldContain(a.Key, "an acknowledged message is missing"); break;
                default:
                    for (var i = 0; i < a.Items; i++) titles.ShouldContain($"{a.Key}-{i}", "an item of an acknowledged batch is missing");
                    break;
            }
        }
        foreach (var (key, items) in sentBatches)
        {
            var present = Enumerable.Range(0, items).Count(i => titles.Contains($"{key}-{i}"));
            present.ShouldBeOneOf([0, items], $"batch {key} is half there ({present} of {items})");
        }
    }
}
