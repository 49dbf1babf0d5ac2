using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Git;
using Microsoft.EntityFrameworkCore;
using static Entourage.Tests.Dispatch.DispatchHarness;
using static Entourage.Tests.Dispatch.DispatchHarnessExtras;

namespace Entourage.Tests.Runners;

/// <summary>
/// Runner nodes (issue #10): a server that runs no agents and two `runner` child processes on one PostgreSQL
/// database, each runner with its own clone of the team's bare remote. Turns run on the runners, task branches
/// travel through the remote, and the server's merge queue lands them.
/// </summary>
public sealed class RunnerNodesPostgresTests : IAsyncLifetime
{
    private RunnerCluster _c = null!;

    public async ValueTask InitializeAsync() => _c = await RunnerCluster.StartAsync(new Dictionary<string, string?> { ["Dispatch:GlobalMaxConcurrentAgents"] = "3" });

    public async ValueTask DisposeAsync() => await _c.DisposeAsync();

    private static JsonObject Engineer(string records) => new()
    {
        ["record_dir"] = records,
        ["steps"] = new JsonArray(
            // Written in the task's worktree on the runner; the runner commits and pushes it when the turn ends.
            Step("touch", new { path = "task-{task_id}.txt" }),
            Step("http", new { method = "POST", path = "/api/v1/tasks/{task_id}/request-review", body = new { summary = "done" } })),
    };

    private async Task PinAsync(Guid agent, params string[] labels)
    {
        var body = new JsonObject { ["runner_labels"] = new JsonArray(labels.Select(l => (JsonNode)l).ToArray()) };
        var r = await _c.Server.Http.PatchAsync($"/api/v1/agents/{agent}", new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        r.EnsureSuccessStatusCode();
    }

    private async Task<string[]> MainLogAsync() =>
        (await GitCli.RunOrThrowAsync(_c.Remote, ["log", "main", "--format=%s"], default)).Split('\n');

    [Fact]
    public async Task The_three_agent_timeline_runs_on_both_runners_and_lands_every_task_once()
    {
        var backendRunner = await _c.StartRunnerAsync("runner-a", labels: "backend");
        var frontendRunner = await _c.StartRunnerAsync("runner-b", labels: "frontend");
        var team = await _c.CreateTeamAsync("platform");
        await PatchSettingsAsync(_c.Server, team, """{"require_review": false}""");
        var records = Path.Combine(_c.Root, "records");
        var backend = await AddFakeAgentAsync(_c.Server, team, "eng-backend", Engineer(records));
        var frontend = await AddFakeAgentAsync(_c.Server, team, "eng-frontend", Engineer(records));
        // Placement: each engineer is pinned to one runner; the manager is unpinned (either runner).
        await PinAsync(backend, "backend");
        await PinAsync(frontend, "frontend");
        var manager = (await _c.Server.GetJsonAsync($"/api/v1/teams/{team}"))["manager"]!["id"]!.GetValue<Guid>();
        await UseFakeAgentAsync(_c.Server, manager, new JsonObject
        {
            ["record_dir"] = records,
            ["steps"] = new JsonArray(Step("http", new { method = "POST", path = "/api/v1/tasks/{task_id}/status", body = new { status = "done" } })),
        });

        var batch = await _c.Server.PostJsonAsync($"/api/v1/teams/{team}/tasks/batch", new JsonObject
        {
            ["tasks"] = new JsonArray(
                new JsonObject { ["title"] = "Design notification schema", ["assignee_id"] = backend.ToString() },
                new JsonObject { ["title"] = "Build notification API endpoints", ["assignee_id"] = backend.ToString(), ["depends_on_indices"] = new JsonArray(0) },
                new JsonObject { ["title"] = "Add notification bell to navbar", ["assignee_id"] = frontend.ToString(), ["depends_on_indices"] = new JsonArray(1) },
                new JsonObject { ["title"] = "Write integration tests", ["assignee_id"] = backend.ToString(), ["depends_on_indices"] = new JsonArray(1, 2) },
                new JsonObject { ["title"] = "Notification system", ["assignee_id"] = manager.ToString(), ["depends_on_indices"] = new JsonArray(0, 1, 2, 3) }),
        }.ToJsonString());
        var ids = (batch["tasks"] as JsonArray ?? batch.AsArray()).Select(t => t!["id"]!.GetValue<long>()).ToArray();
        var (t1, t2, t3, t4, feature) = (ids[0], ids[1], ids[2], ids[3], ids[4]);

        await _c.WaitAsync(db => db.Tasks.AnyAsync(t => t.Id == feature && t.Status == TaskState.Done), "the feature to be done", TimeSpan.FromSeconds(240));

        await using var db = Db(_c.Server);
        var events = await db.TaskEvents.Where(e => ids.Contains(e.TaskId)).OrderBy(e => e.Id).ToListAsync();
        long Started(long task) => events.First(e => e.TaskId == task && e.Kind == "turn_started").Id;
        long Done(long task) => events.First(e => e.TaskId == task && e.Kind == "status_changed" && e.ToStatus == "done").Id;
        var order = new[] { Started(t1), Done(t1), Started(t2), Done(t2), Started(t3), Done(t3), Started(t4), Done(t4), Started(feature), Done(feature) };
        order.ShouldBe(order.Order().ToArray());
        foreach (var id in ids) events.Count(e => e.TaskId == id && e.Kind == "turn_started").ShouldBe(1, $"task {id} ran once");

        // Spread over both runners, by placement; none on the server (it runs no agents here).
        var turns = await db.Turns.AsNoTracking().ToListAsync();
        turns.Where(t => t.AgentId == backend).Select(t => t.Node).Distinct().ShouldBe([backendRunner.NodeId]);
        turns.Where(t => t.AgentId == frontend).Select(t => t.Node).Distinct().ShouldBe([frontendRunner.NodeId]);
        turns.Select(t => t.Node).ShouldAllBe(n => n == backendRunner.NodeId || n == frontendRunner.NodeId);
        // Never two turns of one agent at once.
        foreach (var g in turns.GroupBy(t => t.AgentId))
            MaxOverlap(g.Select(t => (t.StartedAt, t.EndedAt ?? DateTime.MaxValue))).ShouldBe(1);
        // Engineers worked in the runners' own clones, not the server's.
        turns.Single(t => t.TaskId == t3).WorkingDirectory!.ShouldStartWith(frontendRunner.DataDirectory);
        turns.Single(t => t.TaskId == t1).WorkingDirectory!.ShouldStartWith(backendRunner.DataDirectory);

        // Every engineer task landed on the remote's main exactly once, with the file its agent wrote.
        var log = await MainLogAsync();
        foreach (var id in new[] { t1, t2, t3, t4 }) log.Count(s => s.Contains($"(task #{id})", StringComparison.Ordinal)).ShouldBe(1, $"task {id} landed once");
        var files = await GitCli.RunOrThrowAsync(_c.Remote, ["ls-tree", "--name-only", "main"], default);
        foreach (var id in new[] { t1, t2, t3, t4 }) files.ShouldContain($"task-{id}.txt");

        // GET /nodes: the server and both runners, with their roles and labels.
        var nodes = (await _c.Server.GetJsonAsync("/api/v1/nodes")).AsArray();
        nodes.Count.ShouldBe(3);
        nodes.ShouldAllBe(n => n!["state"]!.GetValue<string>() == "active");
        var a = nodes.Single(n => n!["id"]!.GetValue<string>() == backendRunner.NodeId)!;
        a["role"]!.GetValue<string>().ShouldBe("runner");
        a["labels"]!.AsArray().Select(l => l!.GetValue<string>()).ShouldBe(["backend"]);
        a["max_concurrent_turns"]!.GetValue<int>().ShouldBe(4);
        nodes.Single(n => n!["role"]!.GetValue<string>() == "server")!["max_concurrent_turns"]!.GetValue<int>().ShouldBe(0);
        TestContext.Current.SendDiagnosticMessage($"turns by node: {string.Join(", ", turns.GroupBy(t => t.Node).Select(g => $"{g.Key}={g.Count()}"))}");
    }

    [Fact]
    public async Task A_killed_runners_turn_finishes_on_the_other_runner_after_the_lease_and_lands_once()
    {
        var first = await _c.StartRunnerAsync("runner-a", settings: RunnerCluster.ShortLease);
        var second = await _c.StartRunnerAsync("runner-b", settings: RunnerCluster.ShortLease);
        var team = await _c.CreateTeamAsync("platform");
        await PatchSettingsAsync(_c.Server, team, """{"require_review": false}""");
        // Every run signals it started and waits for the test's go; so whichever run starts first (a slow machine
        // may lose an early claim to a lease before its process starts) is the one whose runner gets killed.
        var agent = await AddFakeAgentAsync(_c.Server, team, "eng", new JsonObject
        {
            ["record_dir"] = Path.Combine(_c.Root, "records"),
            ["steps"] = new JsonArray(
                Step("touch", new { path = Path.Combine(_c.Root, "started-{turn_id}") }),
                Step("wait_file", new { path = Path.Combine(_c.Root, "go-{turn_id}") }),
                Step("touch", new { path = "task-{task_id}.txt" }),
                Step("http", new { method = "POST", path = "/api/v1/tasks/{task_id}/request-review", body = new { summary = "done" } })),
        });
        string[] Started() => Directory.GetFiles(_c.Root, "started-*").Select(f => Path.GetFileName(f)["started-".Length..]).ToArray();
        var task = await AddReadyTaskAsync(_c.Server, team, agent, "Create GET/PATCH /api/v1/users/me endpoint");
        await _c.WaitAsync(_ => Task.FromResult(Started().Length > 0), "the first turn to start", TimeSpan.FromSeconds(180));

        var firstTurn = Guid.Parse(Started()[0]);
        string victimNode;
        await using (var db0 = Db(_c.Server)) victimNode = (await db0.Turns.SingleAsync(t => t.Id == firstTurn)).Node;
        var victim = _c.RunnerOf(victimNode);
        var survivor = victim == first ? second : first;
        victim.Kill();

        // The lease runs out, the work goes back to pending and the survivor runs it; let that run finish.
        await _c.WaitAsync(async db =>
        {
            foreach (var id in Started().Where(id => id != firstTurn.ToString()))
                await File.WriteAllTextAsync(Path.Combine(_c.Root, "go-" + id), "go");
            return await db.Tasks.AnyAsync(t => t.Id == task && t.Status == TaskState.Done);
        }, "the task to land after the lease ran out", TimeSpan.FromSeconds(240));

        await using var db = Db(_c.Server);
        var turns = await db.Turns.AsNoTracking().Where(t => t.AgentId == agent).OrderBy(t => t.StartedAt).ToListAsync();
        var lost = turns.Single(t => t.Id == firstTurn);
        lost.State.ShouldBe(TurnState.Lost);
        lost.Node.ShouldBe(victim.NodeId);
        var done = turns.Single(t => t.State == TurnState.Succeeded);
        done.Node.ShouldBe(survivor.NodeId);
        done.StartedAt.ShouldBeGreaterThan(lost.StartedAt);
        var events = await db.TaskEvents.Where(e => e.TaskId == task).Select(e => e.Kind).ToListAsync();
        events.Count(k => k == "turn_lost").ShouldBe(turns.Count(t => t.State == TurnState.Lost));
        (await db.MergeQueue.CountAsync(m => m.TaskId == task && m.State == MergeState.Merged)).ShouldBe(1);
        (await MainLogAsync()).Count(s => s.Contains($"(task #{task})", StringComparison.Ordinal)).ShouldBe(1);
        (await GitCli.RunOrThrowAsync(_c.Remote, ["ls-tree", "--name-only", "main"], default)).ShouldContain($"task-{task}.txt");

        // GET /nodes shows the killed runner lost (once its heartbeat is a lease old) with nothing running.
        async Task<JsonNode> Victim() => (await _c.Server.GetJsonAsync($"/api/v1/nodes?id={victim.NodeId}")).AsArray().Single()!;
        await _c.WaitAsync(async _ => (await Victim())["state"]!.GetValue<string>() == "lost", "the killed runner to show lost", TimeSpan.FromSeconds(60));
        (await Victim())["running_turns"]!.GetValue<int>().ShouldBe(0);
    }

    [Fact]
    public async Task Team_and_global_limits_hold_across_runners()
    {
        // Global limit 3 on every node (set by the fixture), two runners of 2 slots each, team alpha limited to 2.
        var a = await _c.StartRunnerAsync("runner-a", concurrency: 2);
        var b = await _c.StartRunnerAsync("runner-b", concurrency: 2);
        var alpha = await _c.CreateTeamAsync("alpha");
        var beta = await _c.CreateTeamAsync("beta");
        await PatchSettingsAsync(_c.Server, alpha, """{"max_concurrent_agents": 2}""");
        var records = Path.Combine(_c.Root, "records");
        var script = new JsonObject { ["record_dir"] = records, ["steps"] = new JsonArray(Step("sleep", new { ms = 1500 })) };
        var agents = new List<(Guid Team, Guid Agent)>();
        foreach (var team in new[] { alpha, beta })
            for (var i = 0; i < 4; i++) agents.Add((team, await AddFakeAgentAsync(_c.Server, team, $"eng-{i}", script)));
        foreach (var (team, agent) in agents) await SendMessageAsync(_c.Server, team, agent, "work");

        await _c.WaitAsync(async db => await db.DispatchRequests.CountAsync(d => d.State == DispatchState.Done) == agents.Count,
            "every message handled", TimeSpan.FromSeconds(240));

        await using var db = Db(_c.Server);
        var turns = await db.Turns.AsNoTracking().ToListAsync();
        turns.Where(t => t.State != TurnState.Succeeded).Select(t => $"{t.State}: {t.Error}").ShouldBeEmpty();
        (DateTime, DateTime) Span(Entourage.Server.Storage.Entities.Turn t) => (t.StartedAt, t.EndedAt!.Value);
        var global = MaxOverlap(turns.Select(Span));
        var inAlpha = MaxOverlap(turns.Where(t => t.TeamId == alpha).Select(Span));
        global.ShouldBeLessThanOrEqualTo(3);
        inAlpha.ShouldBeLessThanOrEqualTo(2);
        foreach (var g in turns.GroupBy(t => t.Node)) MaxOverlap(g.Select(Span)).ShouldBeLessThanOrEqualTo(2, $"node {g.Key} runs at most 2");
        turns.Select(t => t.Node).Distinct().Order().ShouldBe(new[] { a.NodeId, b.NodeId }.Order());

        // The agent processes themselves (their own start/end records) never exceeded the limits either.
        var starts = Directory.GetFiles(records, "*.start.json").Select(f => JsonNode.Parse(File.ReadAllText(f))!).ToList();
        var ends = Directory.GetFiles(records, "*.end.json").Select(f => JsonNode.Parse(File.ReadAllText(f))!).ToDictionary(r => r["turn_id"]!.GetValue<string>(), r => At(r));
        MaxOverlap(starts.Select(r => (At(r), ends[r["turn_id"]!.GetValue<string>()]))).ShouldBeLessThanOrEqualTo(3);
        static DateTime At(JsonNode r) => DateTime.Parse(r["at"]!.GetValue<string>(), null, System.Globalization.DateTimeStyles.RoundtripKind);
        TestContext.Current.SendDiagnosticMessage($"{turns.Count} turns; most at once: {global} overall (limit 3), {inAlpha} in alpha (limit 2); by node: {string.Join(", ", turns.GroupBy(t => t.Node).Select(g => g.Count()))}");
    }
}
