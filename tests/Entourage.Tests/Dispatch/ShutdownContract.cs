using System.Text.Json.Nodes;
using Entourage.Bench.Load;
using Entourage.Client.Contracts;
using Entourage.Server.Dispatch;
using Entourage.Tests.Faults;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Entourage.Tests.Dispatch.DispatchHarness;
using static Entourage.Tests.Infrastructure.ChildServerHttp;

namespace Entourage.Tests.Dispatch;

/// <summary>
/// Soft shutdown (DESIGN §4) of a real server process stopped with SIGTERM (Faults/FaultServer): it stops claiming,
/// lets running turns finish up to Dispatch:ShutdownTimeoutSeconds (the API stays up meanwhile, so agents can still
/// report), then kills the process trees of the rest and releases their work to pending, which the next start runs.
/// After the stop the same store (data folder, or the test's own PostgreSQL database) is opened by an in-process
/// server to look at it and to run what was left.
/// </summary>
public abstract class ShutdownContract(Store store) : IAsyncLifetime
{
    private const string DrainLine = "Shutting down: waiting up to";
    private readonly string _dir = Directory.CreateTempSubdirectory("entourage-shutdown-").FullName;
    private string? _pg;
    private ChildServer? _child;
    private TestServer? _server;

    private string Gate => Path.Combine(_dir, "gate");
    private string Records => Path.Combine(_dir, "records");

    public async ValueTask InitializeAsync()
    {
        if (store == Store.Postgres) _pg = await PostgresTestDatabase.CreateAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await File.WriteAllTextAsync(Gate, "go");
        _child?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
        if (_pg is not null) await PostgresTestDatabase.DropAsync(_pg);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>The server as a process of its own, so it can be sent SIGTERM; its drain is logged at Information.</summary>
    private async Task<HttpClient> StartChildAsync(double shutdownSeconds, bool ownProcessGroup = false)
    {
        _child = await FaultServer.StartAsync(_dir, _pg, new Dictionary<string, string>
        {
            ["Dispatch:ShutdownTimeoutSeconds"] = shutdownSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Entourage.Server.Dispatch.Dispatcher"] = "Information",
        }, ownProcessGroup);
        return _child.Http;
    }

    /// <summary>SIGTERM (or the given stop), then the process ends by itself with exit code 0.</summary>
    private async Task TerminateChildAsync(Func<Task>? whileDraining = null, Action<ChildServer>? stop = null)
    {
        var child = _child!;
        (stop ?? (c => c.Terminate()))(child);
        if (whileDraining is not null)
        {
            await FileEvents.WaitForTextAsync(child.LogPath, DrainLine);
            await whileDraining();
        }
        (await child.WaitForExitAsync(TimeSpan.FromSeconds(120))).ShouldBe(0, FileEvents.ReadShared(child.LogPath));
        child.Dispose();
        _child = null;
    }

    /// <summary>The same store in this process (dispatching or not), to look at it with EF and run what was left.</summary>
    private async Task<TestServer> StartInProcessAsync(bool dispatch, double shutdownSeconds = 2)
    {
        var settings = FastSettings(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = Path.Combine(_dir, ".entourage"),
            ["Dispatch:Enabled"] = dispatch ? "true" : "false",
            ["Dispatch:ShutdownTimeoutSeconds"] = shutdownSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        return _server = await TestServer.StartAsync(store, settings, postgresConnectionString: _pg);
    }

    private async Task StopInProcessAsync()
    {
        var s = _server!;
        _server = null;
        await s.DisposeAsync();
    }

    /// <summary>A command agent: /bin/sh starting FakeAgent as its child, so the turn is a process tree of two.</summary>
    private async Task<string> AddTreeAgentAsync(HttpClient http, string team, JsonArray steps)
    {
        var scriptPath = Path.Combine(_dir, "script.json");
        await File.WriteAllTextAsync(scriptPath, new JsonObject { ["record_dir"] = Records, ["steps"] = steps }.ToJsonString());
        var shell = $"echo $$ > '{Path.Combine(_dir, "parent.pid")}'; \"$0\" \"$1\" --script \"$2\" & echo $! > '{Path.Combine(_dir, "child.pid")}'; wait";
        var body = new JsonObject
        {
            ["name"] = "eng-backend",
            ["adapter"] = "command",
            ["config"] = new JsonObject { ["command"] = "/bin/sh", ["args"] = new JsonArray("-c", shell, DotnetHost, FakeAgentDll, scriptPath) },
        };
        return (await PostAsync(http, $"/api/v1/teams/{team}/agents", body.ToJsonString()))["id"]!.ToString();
    }

    private static async Task<string> CreateTeamAsync(HttpClient http)
    {
        var org = (await GetAsync(http, "/api/v1/orgs")).AsArray()[0]!["id"]!.ToString();
        var team = (await PostAsync(http, $"/api/v1/orgs/{org}/teams", """{"name": "Platform", "slug": "platform"}"""))["id"]!.ToString();
        await SendAsync(http, HttpMethod.Patch, $"/api/v1/settings/teams/{team}", """{"require_review": false}""");
        return team;
    }

    private static async Task<long> AddTaskAsync(HttpClient http, string team, string agent, string title) =>
        (await PostAsync(http, $"/api/v1/teams/{team}/tasks", new JsonObject { ["title"] = title, ["assignee_id"] = agent }.ToJsonString()))["id"]!.GetValue<long>();

    private int RecordedStarts => Directory.Exists(Records) ? Directory.GetFiles(Records, "*.start.json").Length : 0;

    /// <summary>Both loops of the restarted server have made a pass: anything left to run would have been claimed or swept.</summary>
    private static Task WaitForLoopsAsync(TestServer server, DateTimeOffset since) =>
        WaitUntilAsync(server, _ => Task.FromResult(
                server.Services.GetRequiredService<Dispatcher>().LastIterationAt > since
                && server.Services.GetRequiredService<LeaseSweeper>().LastIterationAt > since),
            "the restarted server's dispatcher and lease sweeper to make a pass");

    [Fact]
    public async Task The_hosts_stop_budget_covers_the_drain_so_the_host_never_cuts_it_short()
    {
        var server = await StartInProcessAsync(dispatch: true, shutdownSeconds: 90);
        var host = server.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.Extensions.Hosting.HostOptions>>().Value;
        host.ShutdownTimeout.ShouldBeGreaterThanOrEqualTo(TimeSpan.FromSeconds(90) + DispatchRegistration.DrainMargin);
    }

    [Fact]
    public Task A_turn_that_finishes_within_the_timeout_after_SIGTERM_succeeds_its_task_progresses_and_nothing_runs_again() =>
        FinishDuringTheDrainAsync(ownProcessGroup: false, c => c.Terminate());

    /// <summary>
    /// Ctrl+C where the server runs in a terminal reaches its whole process group. The agents run in sessions of their
    /// own, so the signal stops only the server, which drains: the turn finishes as with SIGTERM, instead of its
    /// process dying with the server's signal and the turn failing.
    /// </summary>
    [Fact]
    public Task A_ctrl_c_in_the_servers_terminal_stops_only_the_server_and_the_running_turn_finishes() =>
        FinishDuringTheDrainAsync(ownProcessGroup: true, c => c.InterruptGroup());

    private async Task FinishDuringTheDrainAsync(bool ownProcessGroup, Action<ChildServer> stop)
    {
        // Longer than the host's default stop budget (30 s): the server must give the drain the time it was told to.
        var http = await StartChildAsync(shutdownSeconds: 45, ownProcessGroup);
        var team = await CreateTeamAsync(http);
        var started = Path.Combine(_dir, "started");
        // Blocks until the drain has begun, then reports its task done over REST (the API is still up) and exits 0.
        var agent = Guid.Parse(await AddTreeAgentAsync(http, team, new JsonArray(
            Step("touch", new { path = started }),
            Step("wait_file", new { path = Gate }),
            Step("http", new { method = "POST", path = "/api/v1/tasks/{task_id}/status", body = new { status = "done" } }))));
        var task = await AddTaskAsync(http, team, agent.ToString(), "Finish during shutdown");
        await FileEvents.WaitForFileAsync(started);

        await TerminateChildAsync(whileDraining: () => File.WriteAllTextAsync(Gate, "go"), stop);

        var restartedAt = DateTimeOffset.UtcNow;
        var server = await StartInProcessAsync(dispatch: true);
        await WaitForLoopsAsync(server, restartedAt);
        await using var db = Db(server);
        var turns = await db.Turns.Where(t => t.AgentId == agent).OrderBy(t => t.StartedAt).ToListAsync();
        turns.Select(t => t.State).ShouldBe([TurnState.Succeeded], string.Join("; ", turns.Select(t => $"{t.State} exit {t.ExitCode}: {t.Error}")));
        var turn = turns[0];
        turn.ExitCode.ShouldBe(0);
        (await db.Tasks.SingleAsync(t => t.Id == task)).Status.ShouldBe(TaskState.Done);
        (await db.DispatchRequests.Where(d => d.AgentId == agent).Select(d => d.State).ToListAsync()).ShouldAllBe(s => s == DispatchState.Done);
        RecordedStarts.ShouldBe(1, "the finished turn must not run again after the restart");
    }

    [Fact]
    public async Task A_turn_that_outlives_the_timeout_after_SIGTERM_is_killed_with_its_tree_released_and_run_once_after_restart()
    {
        var http = await StartChildAsync(shutdownSeconds: 1);
        var team = await CreateTeamAsync(http);
        var started = Path.Combine(_dir, "started");
        // Hangs until the gate opens (the test opens it only before the restart), then exits normally.
        var agent = Guid.Parse(await AddTreeAgentAsync(http, team, new JsonArray(Step("touch", new { path = started }), Step("wait_file", new { path = Gate }))));
        var task = await AddTaskAsync(http, team, agent.ToString(), "Outlive the shutdown");
        await FileEvents.WaitForFileAsync(started);
        await FileEvents.WaitForFileAsync(Path.Combine(_dir, "child.pid"));
        using var parent = ProcessExit.Watch(int.Parse((await File.ReadAllTextAsync(Path.Combine(_dir, "parent.pid"))).Trim()));
        using var child = ProcessExit.Watch(int.Parse((await File.ReadAllTextAsync(Path.Combine(_dir, "child.pid"))).Trim()));

        await TerminateChildAsync();

        // The whole tree is gone although the gate is still shut: the server killed both processes.
        await parent.WaitAsync(TimeSpan.FromSeconds(30));
        await child.WaitAsync(TimeSpan.FromSeconds(30));
        var server = await StartInProcessAsync(dispatch: false);
        await using (var db = Db(server))
        {
            var lost = await db.Turns.SingleAsync(t => t.AgentId == agent);
            lost.State.ShouldBe(TurnState.Lost);
            lost.Error!.ShouldContain("shut down");
            var request = await db.DispatchRequests.SingleAsync(d => d.AgentId == agent);
            request.State.ShouldBe(DispatchState.Pending);
            request.TurnId.ShouldBeNull();
            request.Attempts.ShouldBe(0, "a shutdown is no fault of the work: it keeps its attempts");
        }
        await StopInProcessAsync();

        await File.WriteAllTextAsync(Gate, "go");
        server = await StartInProcessAsync(dispatch: true);
        await WaitUntilAsync(server, db => db.Turns.AnyAsync(t => t.AgentId == agent && t.State == TurnState.Succeeded), "the released work to run after the restart");
        await WaitForLoopsAsync(server, DateTimeOffset.UtcNow);
        await using (var db = Db(server))
        {
            var turns = await db.Turns.Where(t => t.AgentId == agent).OrderBy(t => t.StartedAt).ToListAsync();
            turns.Select(t => t.State).ShouldBe([TurnState.Lost, TurnState.Succeeded]);
            turns[1].TaskId.ShouldBe(task);
            var request = await db.DispatchRequests.SingleAsync(d => d.AgentId == agent);
            request.State.ShouldBe(DispatchState.Done);
            request.TurnId.ShouldBe(turns[1].Id);
        }
        RecordedStarts.ShouldBe(2, "killed once at shutdown, run once after the restart");
    }
}

public sealed class ShutdownContractSqlite() : ShutdownContract(Store.Sqlite);

public sealed class ShutdownContractPostgres() : ShutdownContract(Store.Postgres);
