using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
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
    private Process? _server;

    public async ValueTask InitializeAsync()
    {
        if (store == Store.Postgres) _pg = await PostgresTestDatabase.CreateAsync();
    }

    public async ValueTask DisposeAsync()
    {
        // Releases the first, orphaned agent process (it waits on this gate).
        await File.WriteAllTextAsync(Path.Combine(_dir, "gate"), "go");
        Kill();
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

    private async Task<string> StartServerAsync()
    {
        var dll = Path.Combine(RepoRoot, "src", "Entourage.Server", "bin", new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Parent!.Name, "net10.0", "Entourage.Server.dll");
        File.Exists(dll).ShouldBeTrue($"server build missing: {dll}");
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0)) { l.Start(); port = ((IPEndPoint)l.LocalEndpoint).Port; l.Stop(); }
        var url = $"http://127.0.0.1:{port}";
        var psi = new ProcessStartInfo(DotnetHost) { WorkingDirectory = _dir, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add(url);
        psi.Environment["ENTOURAGE__Storage__DataDirectory"] = Path.Combine(_dir, ".entourage");
        psi.Environment["ENTOURAGE__Dispatch__LeaseSeconds"] = "2";
        psi.Environment["ENTOURAGE__Dispatch__HeartbeatSeconds"] = "0.5";
        psi.Environment["ENTOURAGE__Dispatch__PollSeconds"] = "1";
        if (_pg is not null) psi.Environment["ENTOURAGE__Storage__DatabaseUrl"] = _pg;
        _server = Process.Start(psi)!;
        var log = Path.Combine(Path.GetTempPath(), "entourage-crash-test.log");
        _server.OutputDataReceived += (_, e) => { lock (_dir) File.AppendAllText(log, e.Data + "\n"); };
        _server.ErrorDataReceived += (_, e) => { lock (_dir) File.AppendAllText(log, e.Data + "\n"); };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        using var probe = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(5) };
        await WaitForAsync(async () =>
        {
            if (_server.HasExited) throw new InvalidOperationException($"The server exited with {_server.ExitCode}.");
            try { return (await probe.GetAsync("/health")).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
            catch (TaskCanceledException) { return false; }
        }, "the server to start");
        return url;
    }

    private void Kill()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill(); // SIGKILL: no shutdown hooks, no lease release.
            _server.WaitForExit();
        }
    }
}

public sealed class CrashRecoveryContractSqlite() : CrashRecoveryContract(Store.Sqlite);

public sealed class CrashRecoveryContractPostgres() : CrashRecoveryContract(Store.Postgres);
