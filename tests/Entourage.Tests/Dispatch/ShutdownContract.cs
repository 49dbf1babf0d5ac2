using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Entourage.Tests.Dispatch.DispatchHarness;

namespace Entourage.Tests.Dispatch;

/// <summary>
/// Soft shutdown (DESIGN §4): stopping the host stops claiming, lets running turns finish up to
/// Dispatch:ShutdownTimeoutSeconds (the API stays up meanwhile, so agents can still report), then kills the
/// process trees of the rest and releases their work to pending, which the next start runs. The store lives in
/// a folder of this test (and its own PostgreSQL database), so it outlives each server.
/// </summary>
public abstract class ShutdownContract(Store store) : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("entourage-shutdown-").FullName;
    private string? _pg;
    private TestServer? _server;

    private string Gate => Path.Combine(_dir, "gate");

    public async ValueTask InitializeAsync()
    {
        if (store == Store.Postgres) _pg = await PostgresTestDatabase.CreateAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await File.WriteAllTextAsync(Gate, "go");
        if (_server is not null) await _server.DisposeAsync();
        if (_pg is not null) await PostgresTestDatabase.DropAsync(_pg);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private async Task<TestServer> StartAsync(double shutdownSeconds, bool dispatch = true)
    {
        var settings = FastSettings(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = Path.Combine(_dir, "store"),
            ["Dispatch:ShutdownTimeoutSeconds"] = shutdownSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Dispatch:Enabled"] = dispatch ? "true" : "false",
        });
        return _server = await TestServer.StartAsync(store, settings, postgresConnectionString: _pg);
    }

    private async Task StopAsync()
    {
        var s = _server!;
        _server = null;
        await s.DisposeAsync();
    }

    /// <summary>A command agent: /bin/sh starting FakeAgent as its child, so the turn is a process tree of two.</summary>
    private async Task<Guid> AddTreeAgentAsync(Guid team, JsonObject script)
    {
        var scriptPath = Path.Combine(_dir, "script.json");
        await File.WriteAllTextAsync(scriptPath, script.ToJsonString());
        var shell = $"echo $$ > '{Path.Combine(_dir, "parent.pid")}'; \"$0\" \"$1\" --script \"$2\" & echo $! > '{Path.Combine(_dir, "child.pid")}'; wait";
        var body = new JsonObject
        {
            ["name"] = "eng-backend",
            ["adapter"] = "command",
            ["config"] = new JsonObject { ["command"] = "/bin/sh", ["args"] = new JsonArray("-c", shell, DotnetHost, FakeAgentDll, scriptPath) },
        };
        return (await _server!.PostJsonAsync($"/api/v1/teams/{team}/agents", body.ToJsonString()))["id"]!.GetValue<Guid>();
    }

    private async Task<Guid> CreateTeamAsync()
    {
        var team = await DispatchHarness.CreateTeamAsync(_server!);
        await DispatchHarnessExtras.PatchSettingsAsync(_server!, team, """{"require_review": false}""");
        return team;
    }

    [Fact]
    public async Task A_hanging_turn_is_killed_at_the_timeout_its_work_released_and_run_again_after_restart()
    {
        await StartAsync(shutdownSeconds: 1);
        var team = await CreateTeamAsync();
        var started = Path.Combine(_dir, "started");
        // Hangs until the gate opens (the test opens it only before the restart), then exits normally.
        var agent = await AddTreeAgentAsync(team, Script(Step("touch", new { path = started }), Step("wait_file", new { path = Gate })));
        await SendMessageAsync(_server!, team, agent, "Take your time.");
        await WaitForFileAsync(started);
        await WaitForFileAsync(Path.Combine(_dir, "child.pid"));
        var parent = int.Parse((await File.ReadAllTextAsync(Path.Combine(_dir, "parent.pid"))).Trim());
        var child = int.Parse((await File.ReadAllTextAsync(Path.Combine(_dir, "child.pid"))).Trim());
        IsAlive(parent).ShouldBeTrue();
        IsAlive(child).ShouldBeTrue();

        await StopAsync();

        await WaitForExitAsync(parent);
        await WaitForExitAsync(child);
        await StartAsync(shutdownSeconds: 1, dispatch: false);
        await using (var db = Db(_server!))
        {
            var lost = await db.Turns.SingleAsync(t => t.AgentId == agent);
            lost.State.ShouldBe(TurnState.Lost);
            lost.Error!.ShouldContain("shut down");
            var request = await db.DispatchRequests.SingleAsync(d => d.AgentId == agent);
            request.State.ShouldBe(DispatchState.Pending);
            request.TurnId.ShouldBeNull();
            request.Attempts.ShouldBe(0, "a shutdown is no fault of the work: it keeps its attempts");
        }
        await StopAsync();

        await File.WriteAllTextAsync(Gate, "go");
        await StartAsync(shutdownSeconds: 1);
        await WaitUntilAsync(_server!, db => db.Turns.AnyAsync(t => t.AgentId == agent && t.State == TurnState.Succeeded), "the released work to run after the restart");
        await using (var db = Db(_server!))
        {
            var turns = await db.Turns.Where(t => t.AgentId == agent).OrderBy(t => t.StartedAt).ToListAsync();
            turns.Select(t => t.State).ShouldBe([TurnState.Lost, TurnState.Succeeded]);
            var request = await db.DispatchRequests.SingleAsync(d => d.AgentId == agent);
            request.State.ShouldBe(DispatchState.Done);
            request.TurnId.ShouldBe(turns[1].Id);
        }
    }

    /// <summary>Waits for a file an agent writes; its process reports nothing to the server's change feed.</summary>
    private static async Task WaitForFileAsync(string path)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        while (!File.Exists(path) || new FileInfo(path).Length == 0)
            await Task.Delay(20, cts.Token);
    }

    /// <summary>Gone, or a zombie nobody reaps yet (the container's init may not): either way it no longer runs.</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state is not ("Z" or "X");
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>SIGKILL is asynchronous: the killed process disappears from /proc shortly after.</summary>
    private static async Task WaitForExitAsync(int pid)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (IsAlive(pid))
        {
            if (cts.IsCancellationRequested) throw new TimeoutException($"Process {pid} of the hanging turn is still running after shutdown.");
            await Task.Delay(20, CancellationToken.None);
        }
    }
}

public sealed class ShutdownContractSqlite() : ShutdownContract(Store.Sqlite);

public sealed class ShutdownContractPostgres() : ShutdownContract(Store.Postgres);
