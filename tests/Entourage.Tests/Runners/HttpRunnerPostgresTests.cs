using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Git;
using Microsoft.EntityFrameworkCore;
using static Entourage.Tests.Dispatch.DispatchHarness;
using static Entourage.Tests.Dispatch.DispatchHarnessExtras;

namespace Entourage.Tests.Runners;

/// <summary>
/// Runners over HTTP (issue #10): `runner --server … --runner-token …` child processes that never see the
/// database's connection string, next to a runner on the database, with a server that runs no agents. Turns run
/// on the runners, task branches travel through the team's bare remote, the server's merge queue lands them.
/// </summary>
public sealed class HttpRunnerPostgresTests : IAsyncLifetime
{
    private RunnerCluster _c = null!;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_c is not null) await _c.DisposeAsync();
    }

    private JsonObject Engineer(params JsonObject[] before) => new()
    {
        ["record_dir"] = Path.Combine(_c.Root, "records"),
        ["steps"] = new JsonArray([.. before, Step("touch", new { path = "task-{task_id}.txt" }),
            Step("http", new { method = "POST", path = "/api/v1/tasks/{task_id}/request-review", body = new { summary = "done" } })]),
    };

    private async Task PinAsync(Guid agent, string label)
    {
        var r = await _c.Server.Http.PatchAsync($"/api/v1/agents/{agent}", new StringContent($$"""{"runner_labels": ["{{label}}"]}""", System.Text.Encoding.UTF8, "application/json"));
        r.EnsureSuccessStatusCode();
    }

    private async Task<string[]> MainLogAsync() => (await GitCli.RunOrThrowAsync(_c.Remote, ["log", "main", "--format=%s"], default)).Split('\n');

    [Fact]
    public async Task An_http_runner_and_a_database_runner_land_every_task_once()
    {
        _c = await RunnerCluster.StartAsync();
        var (_, token) = await _c.MintRunnerTokenAsync("remote-box", "remote");
        var remote = await _c.StartHttpRunnerAsync("runner-h", token, labels: "remote");
        var local = await _c.StartRunnerAsync("runner-p", labels: "local");
        var team = await _c.CreateTeamAsync("platform");
        await PatchSettingsAsync(_c.Server, team, """{"require_review": false}""");
        var onRemote = await AddFakeAgentAsync(_c.Server, team, "eng-remote", Engineer());
        var onLocal = await AddFakeAgentAsync(_c.Server, team, "eng-local", Engineer());
        await PinAsync(onRemote, "remote");
        await PinAsync(onLocal, "local");
        var t1 = await AddReadyTaskAsync(_c.Server, team, onRemote, "Add notification schema");
        var t2 = await AddReadyTaskAsync(_c.Server, team, onLocal, "Add notification bell");
        var t3 = await AddTaskAsync(_c.Server, team, onRemote, "Add notification endpoints", t1);
        var tasks = new[] { t1, t2, t3 };

        await _c.WaitAsync(db => db.Tasks.CountAsync(t => tasks.Contains(t.Id) && t.Status == TaskState.Done).ContinueWith(n => n.Result == 3),
            "every task to land", TimeSpan.FromSeconds(180));

        await using var db = Db(_c.Server);
        var turns = await db.Turns.AsNoTracking().Where(t => t.TaskId != null && tasks.Contains(t.TaskId.Value)).ToListAsync();
        turns.ShouldAllBe(t => t.State == TurnState.Succeeded);
        turns.Where(t => t.AgentId == onRemote).Select(t => t.Node).Distinct().ShouldBe([remote.NodeId]);
        turns.Where(t => t.AgentId == onLocal).Select(t => t.Node).Distinct().ShouldBe([local.NodeId]);
        // The HTTP runner worked in its own clone and pushed the branches it made there.
        turns.Where(t => t.AgentId == onRemote).ShouldAllBe(t => t.WorkingDirectory!.StartsWith(remote.DataDirectory));
        var pushed = await db.TaskEvents.AsNoTracking().Where(e => e.Kind == "branch_pushed" && (e.TaskId == t1 || e.TaskId == t3)).CountAsync();
        pushed.ShouldBeGreaterThanOrEqualTo(2);
        var log = await MainLogAsync();
        foreach (var id in tasks) log.Count(s => s.Contains($"(task #{id})", StringComparison.Ordinal)).ShouldBe(1, $"task {id} landed once");
        var files = await GitCli.RunOrThrowAsync(_c.Remote, ["ls-tree", "--name-only", "main"], default);
        foreach (var id in tasks) files.ShouldContain($"task-{id}.txt");

        var node = (await _c.Server.GetJsonAsync($"/api/v1/nodes?id={remote.NodeId}")).AsArray().Single()!;
        node["role"]!.GetValue<string>().ShouldBe("runner");
        node["state"]!.GetValue<string>().ShouldBe("active");
        node["labels"]!.AsArray().Select(l => l!.GetValue<string>()).ShouldBe(["remote"]);
        // Done tasks' worktrees go from the HTTP runner's clone once its heartbeat hears they are finished.
        await _c.WaitAsync(_ => Task.FromResult(!Directory.EnumerateDirectories(remote.DataDirectory, $"task-{t1}-*", SearchOption.AllDirectories).Any()),
            "the HTTP runner to remove the done task's worktree", TimeSpan.FromSeconds(60));
        await _c.WaitAsync(_ => Task.FromResult(!Directory.EnumerateDirectories(local.DataDirectory, $"task-{t2}-*", SearchOption.AllDirectories).Any()),
            "the database runner to remove the done task's worktree", TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_killed_http_runners_turn_is_recovered_after_the_lease_and_the_task_lands_once()
    {
        // A short lease on the server: it is the server that renews and sweeps an HTTP runner's leases.
        _c = await RunnerCluster.StartAsync(RunnerCluster.ShortLease);
        var (_, token) = await _c.MintRunnerTokenAsync("pool");
        var first = await _c.StartHttpRunnerAsync("runner-a", token);
        var second = await _c.StartHttpRunnerAsync("runner-b", token);
        var team = await _c.CreateTeamAsync("platform");
        await PatchSettingsAsync(_c.Server, team, """{"require_review": false}""");
        // Every run signals that it started and waits for the test's go, so the first run's runner can be killed mid-turn.
        var agent = await AddFakeAgentAsync(_c.Server, team, "eng", Engineer(
            Step("touch", new { path = Path.Combine(_c.Root, "started-{turn_id}") }),
            Step("wait_file", new { path = Path.Combine(_c.Root, "go-{turn_id}") })));
        string[] Started() => Directory.GetFiles(_c.Root, "started-*").Select(f => Path.GetFileName(f)["started-".Length..]).ToArray();
        var task = await AddReadyTaskAsync(_c.Server, team, agent, "Create GET/PATCH /api/v1/users/me endpoint");
        await _c.WaitAsync(_ => Task.FromResult(Started().Length > 0), "the first turn to start", TimeSpan.FromSeconds(180));

        var firstTurn = Guid.Parse(Started()[0]);
        string victimNode;
        await using (var db0 = Db(_c.Server)) victimNode = (await db0.Turns.SingleAsync(t => t.Id == firstTurn)).Node;
        var victim = _c.RunnerOf(victimNode);
        var survivor = victim == first ? second : first;
        victim.Kill();

        await _c.WaitAsync(async db =>
        {
            foreach (var id in Started().Where(id => id != firstTurn.ToString()))
                await File.WriteAllTextAsync(Path.Combine(_c.Root, "go-" + id), "go");
            return await db.Tasks.AnyAsync(t => t.Id == task && t.Status == TaskState.Done);
        }, "the task to land after the lease ran out", TimeSpan.FromSeconds(180));

        await using var db = Db(_c.Server);
        var turns = await db.Turns.AsNoTracking().Where(t => t.AgentId == agent).OrderBy(t => t.StartedAt).ToListAsync();
        var lost = turns.Single(t => t.Id == firstTurn);
        lost.State.ShouldBe(TurnState.Lost);
        lost.Node.ShouldBe(victim.NodeId);
        var done = turns.Single(t => t.State == TurnState.Succeeded);
        done.Node.ShouldBe(survivor.NodeId);
        (await db.TaskEvents.CountAsync(e => e.TaskId == task && e.Kind == "turn_lost")).ShouldBe(turns.Count(t => t.State == TurnState.Lost));
        (await db.MergeQueue.CountAsync(m => m.TaskId == task && m.State == MergeState.Merged)).ShouldBe(1);
        (await MainLogAsync()).Count(s => s.Contains($"(task #{task})", StringComparison.Ordinal)).ShouldBe(1);
        async Task<JsonNode> Victim() => (await _c.Server.GetJsonAsync($"/api/v1/nodes?id={victim.NodeId}")).AsArray().Single()!;
        await _c.WaitAsync(async _ => (await Victim())["state"]!.GetValue<string>() == "lost", "the killed runner to show lost", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_branch_the_runner_cannot_push_fails_the_turn_with_the_reason_and_the_task_shows_it()
    {
        _c = await RunnerCluster.StartAsync();
        // The team's remote refuses task branches (a full disk, a permission, a protected ref: git says why).
        var hook = Path.Combine(_c.Remote, "hooks", "pre-receive");
        await File.WriteAllTextAsync(hook, "#!/bin/sh\necho 'refusing entourage branches today' >&2\nexit 1\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var (_, token) = await _c.MintRunnerTokenAsync("box");
        await _c.StartHttpRunnerAsync("runner-h", token);
        var team = await _c.CreateTeamAsync("platform");
        var agent = await AddFakeAgentAsync(_c.Server, team, "eng", new JsonObject
        {
            ["record_dir"] = Path.Combine(_c.Root, "records"),
            ["steps"] = new JsonArray(Step("touch", new { path = "task-{task_id}.txt" })),
        });
        var task = await AddReadyTaskAsync(_c.Server, team, agent, "Add the endpoint");

        await _c.WaitAsync(db => db.Turns.AnyAsync(t => t.TaskId == task && t.State == TurnState.Failed), "the turn to fail", TimeSpan.FromSeconds(180));
        await using var db = Db(_c.Server);
        var turn = await db.Turns.AsNoTracking().FirstAsync(t => t.TaskId == task && t.State == TurnState.Failed);
        turn.Error!.ShouldContain("could not be pushed");
        turn.Error!.ShouldContain("refusing entourage branches today");
        turn.ExitCode.ShouldBe(0);
        var failed = await db.TaskEvents.AsNoTracking().FirstAsync(e => e.TaskId == task && e.Kind == "branch_push_failed");
        failed.DataJson!.ShouldContain("refusing entourage branches today");
        (await db.TaskEvents.CountAsync(e => e.TaskId == task && e.Kind == "branch_pushed")).ShouldBe(0);
    }

    [Fact]
    public async Task A_runner_whose_token_is_revoked_is_refused_and_stops()
    {
        _c = await RunnerCluster.StartAsync();
        var (id, token) = await _c.MintRunnerTokenAsync("doomed");
        var runner = await _c.StartHttpRunnerAsync("runner-r", token);
        (await _c.Server.Http.DeleteAsync($"/api/v1/runner-tokens/{id}")).EnsureSuccessStatusCode();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        await runner.Process.WaitForExitAsync(timeout.Token);
        runner.Process.ExitCode.ShouldBe(3);
        File.ReadAllText(RunnerCluster.LogOf(runner.Name, runner.Process.Id)).ShouldContain("401");
    }
}
