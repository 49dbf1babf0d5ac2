using System.Text.Json.Nodes;
using Entourage.Bench.Load;
using Entourage.Server.Git;
using Entourage.Tests.Dispatch;
using Entourage.Tests.Infrastructure;
using static Entourage.Tests.Infrastructure.ChildServerHttp;

namespace Entourage.Tests.Faults;

/// <summary>
/// A small team (three FakeAgent engineers, a FakeAgent manager) works a DAG on a real git repository while people
/// send messages; the server process is SIGKILLed at seeded random moments several times and started again on the
/// same store each time. In the end: every task is done, every message and every ready task was handled by
/// exactly one successful turn (what each agent process was actually given, from its own record), nothing is left
/// pending or running, and the base branch holds each task's change exactly once.
/// </summary>
public abstract class KillLoopContract(Store store) : IAsyncLifetime
{
    private const int Tasks = 7;
    private readonly string _dir = Directory.CreateTempSubdirectory("entourage-killloop-").FullName;
    private string? _pg;
    private ChildServer? _server;

    private string Records => Path.Combine(_dir, "records");

    public async ValueTask InitializeAsync()
    {
        if (store == Store.Postgres) _pg = await PostgresTestDatabase.CreateAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _server?.Dispose();
        if (_pg is not null) await PostgresTestDatabase.DropAsync(_pg);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Each engineer turn: a file for its task in the worktree, then request_review (merged without review).</summary>
    private JsonObject EngineerScript(int sleepMs) => new()
    {
        ["record_dir"] = Records,
        ["steps"] = new JsonArray(
            DispatchHarness.Step("sleep", new { ms = sleepMs }),
            DispatchHarness.Step("touch", new { path = "task-{task_id}.txt" }),
            DispatchHarness.Step("http", new { method = "POST", path = "/api/v1/tasks/{task_id}/request-review", body = new { summary = "done by {agent_id}" }, allow_failure = true })),
    };

    private static readonly Dictionary<string, string> Settings = new()
    {
        // Kills must never exhaust a task's attempts: each kill costs the running turns one attempt.
        ["Dispatch:MaxAttempts"] = "50",
        ["Dispatch:LogFlushMilliseconds"] = "50",
    };

    [Fact]
    public Task Repeated_sigkills_lose_nothing_double_nothing_and_merge_each_task_once() =>
        FaultSeed.RunAsync("killloop_" + store.ToString().ToLowerInvariant(), async rng =>
        {
            var repo = await DispatchHarnessExtras.CreateGitRepoAsync(_dir);
            _server = await FaultServer.StartAsync(_dir, _pg, Settings);
            var http = _server.Http;
            var org = (await GetAsync(http, "/api/v1/orgs")).AsArray()[0]!["id"]!.ToString();
            var team = await PostAsync(http, $"/api/v1/orgs/{org}/teams", new JsonObject { ["name"] = "Platform", ["slug"] = "platform", ["repo_path"] = repo }.ToJsonString());
            var teamId = team["id"]!.ToString();
            var managerId = team["manager"]!["id"]!.ToString();
            await SendAsync(http, HttpMethod.Patch, $"/api/v1/settings/teams/{teamId}", """{"require_review": false}""");
            await SendAsync(http, HttpMethod.Patch, $"/api/v1/agents/{managerId}", Agent(null, new JsonObject { ["record_dir"] = Records, ["steps"] = new JsonArray() }).ToJsonString());
            var engineers = new List<string>();
            for (var e = 0; e < 3; e++)
                engineers.Add((await PostAsync(http, $"/api/v1/teams/{teamId}/agents", Agent($"eng-{e}", EngineerScript(rng.Next(100, 1500))).ToJsonString()))["id"]!.ToString());

            // A DAG: each item depends on up to two earlier ones.
            var items = new JsonArray(Enumerable.Range(0, Tasks).Select(i => (JsonNode)new JsonObject
            {
                ["title"] = $"Part {i} of the feature",
                ["assignee_id"] = engineers[rng.Next(engineers.Count)],
                ["depends_on_indices"] = new JsonArray(Enumerable.Range(0, i == 0 ? 0 : rng.Next(0, 3)).Select(_ => (JsonNode)rng.Next(i)).Distinct().ToArray()),
            }).ToArray());
            var tasks = (await PostAsync(http, $"/api/v1/teams/{teamId}/tasks/batch", new JsonObject { ["tasks"] = items }.ToJsonString()))["tasks"]!
                .AsArray().Select(t => t!["id"]!.GetValue<long>()).ToList();

            var messages = new List<long>();
            var kills = rng.Next(3, 6);
            for (var k = 0; k < kills; k++)
            {
                // Messages land at any moment: before the kill some are taken by turns the kill interrupts.
                for (var m = rng.Next(0, 3); m > 0; m--)
                    messages.Add((await PostAsync(_server.Http, $"/api/v1/teams/{teamId}/messages", new JsonObject
                    {
                        ["recipient_id"] = engineers[rng.Next(engineers.Count)],
                        ["body"] = $"note {messages.Count}",
                        ["sender_name"] = "lead",
                    }.ToJsonString()))["id"]!.GetValue<long>());
                await Task.Delay(rng.Next(200, 3000));
                _server.Kill();
                _server.Dispose();
                _server = await FaultServer.StartAsync(_dir, _pg, Settings);
            }
            http = _server.Http;
            TestContext.Current.TestOutputHelper?.WriteLine($"{kills} kills, {tasks.Count} tasks, {messages.Count} messages");

            var agents = engineers.Append(managerId).ToList();
            List<string> given = [];
            try
            {
                await WaitForAsync(async () =>
                {
                    foreach (var t in tasks)
                        if ((await GetAsync(http, $"/api/v1/tasks/{t}"))["status"]!.ToString() != "done") return false;
                    if (!await NoTurnRunningAsync(http, agents)) return false;
                    given = await GivenToSuccessfulTurnsAsync(http, agents);
                    return messages.All(m => given.Contains($"[message:{m}]"));
                }, "every task done, every message handled and every turn ended");
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{e.Message}\n{await DescribeAsync(http, tasks, agents)}\n{DispatchRows()}\nserver log:\n{ServerLogErrors()}", e);
            }

            // Exactly once: every message and every task_ready request in exactly one successful turn.
            foreach (var m in messages)
                given.Count(tag => tag == $"[message:{m}]").ShouldBe(1, $"message {m} was handled by {given.Count(tag => tag == $"[message:{m}]")} successful turns");
            var readyTags = given.Where(tag => tag.StartsWith("[task_ready:", StringComparison.Ordinal)).ToList();
            readyTags.Distinct().Count().ShouldBe(readyTags.Count, "a task_ready request was handled by two successful turns");

            // The base branch: one squash commit per task, each task's file introduced exactly once.
            var log = await GitCli.RunOrThrowAsync(repo, ["log", "--format=%H", "main"], default);
            log.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length.ShouldBe(tasks.Count + 1, "commits on main (initial + one per task)");
            foreach (var t in tasks)
            {
                var adds = await GitCli.RunOrThrowAsync(repo, ["log", "--format=%H", "--diff-filter=A", "main", "--", $"task-{t}.txt"], default);
                adds.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length.ShouldBe(1, $"task {t}'s change on main");
                var merges = (await GetAsync(http, $"/api/v1/tasks/{t}/merge")).AsArray();
                merges.Count(m => m!["state"]!.ToString() == "merged").ShouldBe(1, $"task {t} merged");
            }
        });

    private string DispatchRows()
    {
        if (_pg is not null) return "";
        using var conn = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_dir, ".entourage", "entourage.db")};Mode=ReadOnly;Pooling=False");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT * FROM dispatch_requests ORDER BY id";
        using var r = cmd.ExecuteReader();
        var rows = new List<string>();
        while (r.Read()) rows.Add(string.Join(" | ", Enumerable.Range(0, r.FieldCount).Select(i => $"{r.GetName(i)}={r.GetValue(i)}")));
        return string.Join("\n", rows);
    }

    private string ServerLogErrors()
    {
        var log = Path.Combine(_dir, "server.log");
        if (!File.Exists(log)) return "";
        var lines = File.ReadAllLines(log);
        return string.Join("\n", lines.Where(l => l.StartsWith("fail", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal)).TakeLast(40));
    }

    /// <summary>Where the run stands: for a timeout's message.</summary>
    private static async Task<string> DescribeAsync(HttpClient http, List<long> tasks, List<string> agents)
    {
        var lines = new List<string>();
        foreach (var t in tasks)
        {
            var task = await GetAsync(http, $"/api/v1/tasks/{t}");
            var merges = await GetAsync(http, $"/api/v1/tasks/{t}/merge");
            lines.Add($"task {t}: {task["status"]} attempts={task["attempts"]} failure={task["failure_reason"]} merges={merges.ToJsonString()}");
        }
        foreach (var a in agents)
            foreach (var turn in (await GetAsync(http, $"/api/v1/agents/{a}/turns")).AsArray())
                lines.Add($"turn {turn!["id"]} agent {a} task {turn["task_id"]} {turn["state"]} attempt {turn["attempt"]} exit {turn["exit_code"]} {turn["error"]}");
        return string.Join("\n", lines);
    }

    private static async Task<bool> NoTurnRunningAsync(HttpClient http, IEnumerable<string> agents)
    {
        foreach (var a in agents)
            if ((await GetAsync(http, $"/api/v1/agents/{a}/turns")).AsArray().Any(t => t!["state"]!.ToString() == "running")) return false;
        return true;
    }

    /// <summary>The inbox tags ([message:12], [task_ready:3]) each successful turn's agent process was given, from its own record.</summary>
    private async Task<List<string>> GivenToSuccessfulTurnsAsync(HttpClient http, IEnumerable<string> agents)
    {
        var tags = new List<string>();
        foreach (var a in agents)
            foreach (var turn in (await GetAsync(http, $"/api/v1/agents/{a}/turns")).AsArray().Where(t => t!["state"]!.ToString() == "succeeded"))
            {
                var record = Path.Combine(Records, $"{turn!["id"]}.start.json");
                File.Exists(record).ShouldBeTrue($"succeeded turn {turn["id"]} has no record of its agent process");
                tags.AddRange(JsonNode.Parse(await File.ReadAllTextAsync(record))!["tags"]!.AsArray().Select(x => x!.ToString()));
            }
        return tags;
    }

    private JsonObject Agent(string? name, JsonObject script)
    {
        var path = Path.Combine(_dir, $"script-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, script.ToJsonString());
        var o = new JsonObject
        {
            ["adapter"] = "command",
            ["model"] = "fake",
            ["config"] = new JsonObject { ["command"] = DispatchHarness.DotnetHost, ["args"] = new JsonArray(DispatchHarness.FakeAgentDll, "--script", path) },
        };
        if (name is not null) { o["name"] = name; o["role"] = "engineer"; }
        return o;
    }
}

public sealed class KillLoopContractSqlite() : KillLoopContract(Store.Sqlite);

public sealed class KillLoopContractPostgres() : KillLoopContract(Store.Postgres);
