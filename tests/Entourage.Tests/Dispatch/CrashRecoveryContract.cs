using System.Text.Json.Nodes;
using Entourage.Tests.Infrastructure;
using static Entourage.Tests.Dispatch.DispatchHarness;
using static Entourage.Tests.Infrastructure.ChildServerHttp;

namespace Entourage.Tests.Dispatch;

/// <summary>
/// A real server process (src/Entourage.Server's build) is killed with SIGKILL while a turn runs, then started
/// again on the same store: the lease runs out, the sweeper returns the work, and the turn runs again exactly
/// once and finishes the task.
/// </summary>
public abstract class CrashRecoveryContract(Store store) : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("entourage-crash-").FullName;
    private string? _pg;
    private Faults.ChildServer? _server;

    public async ValueTask InitializeAsync()
    {
        if (store == Store.Postgres) _pg = await PostgresTestDatabase.CreateAsync();
    }

    public async ValueTask DisposeAsync()
    {
        // Releases the first, orphaned agent process (it waits on this gate).
        await File.WriteAllTextAsync(Path.Combine(_dir, "gate"), "go");
        _server?.Dispose();
        if (_pg is not null) await PostgresTestDatabase.DropAsync(_pg);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Fact]
    public async Task A_turn_interrupted_by_a_server_crash_runs_again_exactly_once_and_finishes_the_task()
    {
        var url = await StartServerAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
        var org = (await GetAsync(http, "/api/v1/orgs")).AsArray()[0]!["id"]!.ToString();
        var team = (await PostAsync(http, $"/api/v1/orgs/{org}/teams", """{"name": "Platform", "slug": "platform"}"""))["id"]!.ToString();
        await SendAsync(http, HttpMethod.Patch, $"/api/v1/settings/teams/{team}", """{"require_review": false}""");
        var records = Path.Combine(_dir, "records");
        var script = new JsonObject
        {
            ["record_dir"] = records,
            ["attempts"] = new JsonObject
            {
                // The first run signals it started, then blocks until the test ends (its server is gone).
                ["1"] = new JsonArray(Step("touch", new { path = Path.Combine(_dir, "first-started") }), Step("wait_file", new { path = Path.Combine(_dir, "gate") })),
                ["2"] = new JsonArray(Step("http", new { method = "POST", path = "/api/v1/tasks/{task_id}/status", body = new { status = "done" } })),
            },
        };
        var scriptPath = Path.Combine(_dir, "script.json");
        await File.WriteAllTextAsync(scriptPath, script.ToJsonString());
        var agentBody = new JsonObject
        {
            ["name"] = "eng-backend",
            ["adapter"] = "command",
            ["config"] = new JsonObject { ["command"] = DotnetHost, ["args"] = new JsonArray(FakeAgentDll, "--script", scriptPath) },
        };
        var agent = (await PostAsync(http, $"/api/v1/teams/{team}/agents", agentBody.ToJsonString()))["id"]!.ToString();
        var task = (await PostAsync(http, $"/api/v1/teams/{team}/tasks", new JsonObject { ["title"] = "Design notification schema", ["assignee_id"] = agent }.ToJsonString()))["id"]!.ToString();

        await WaitForAsync(() => Task.FromResult(File.Exists(Path.Combine(_dir, "first-started"))), "the first turn to start");
        Kill();

        url = await StartServerAsync();
        using var http2 = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
        await WaitForAsync(async () => (await GetAsync(http2, $"/api/v1/tasks/{task}"))["status"]!.ToString() == "done", "the task to be done after restart");
        // The agent marks the task done, then exits: wait for its turn to end too.
        await WaitForAsync(async () => (await GetAsync(http2, $"/api/v1/agents/{agent}/turns")).AsArray().All(t => t!["state"]!.ToString() != "running"), "the second turn to end");

        var turns = (await GetAsync(http2, $"/api/v1/agents/{agent}/turns")).AsArray().OrderBy(t => t!["started_at"]!.ToString()).ToList();
        turns.Count.ShouldBe(2);
        turns[0]!["state"]!.ToString().ShouldBe("lost");
        turns[1]!["state"]!.ToString().ShouldBe("succeeded");
        turns[1]!["attempt"]!.GetValue<int>().ShouldBe(2);
        Directory.GetFiles(records, "*.start.json").Length.ShouldBe(2);
        var events = (await GetAsync(http2, $"/api/v1/tasks/{task}/events")).AsArray().Select(e => e!["kind"]!.ToString()).ToList();
        events.Count(k => k == "turn_started").ShouldBe(2);
        events.Count(k => k == "turn_lost").ShouldBe(1);
    }

    /// <summary>The server build as a child process on the same store as before (Faults/ChildServer).</summary>
    private async Task<string> StartServerAsync()
    {
        _server?.Dispose();
        _server = await Faults.ChildServer.StartAsync(_dir, _pg);
        return _server.Url;
    }

    /// <summary>SIGKILL: no shutdown hooks, no lease release.</summary>
    private void Kill() => _server?.Kill();
}

public sealed class CrashRecoveryContractSqlite() : CrashRecoveryContract(Store.Sqlite);

public sealed class CrashRecoveryContractPostgres() : CrashRecoveryContract(Store.Postgres);
