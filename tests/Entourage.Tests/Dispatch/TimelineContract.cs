using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static Entourage.Tests.Dispatch.DispatchHarness;
using static Entourage.Tests.Dispatch.DispatchHarnessExtras;

namespace Entourage.Tests.Dispatch;

/// <summary>
/// The spec's "3-agent feature build" (t0–t4), driven by fake agents that finish their task through the REST
/// API: the dispatcher starts each task exactly when the DAG allows, in its own worktree, and the task events
/// show that order.
/// </summary>
public abstract class TimelineContract(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(store, FastSettings());

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Three_agents_build_the_notification_feature_in_dag_order_in_their_own_worktrees()
    {
        var repo = await CreateGitRepoAsync(_server.DataDirectory);
        var team = await CreateTeamAsync(_server, "platform", repo);
        await PatchSettingsAsync(_server, team, """{"require_review": false}""");
        var records = Path.Combine(_server.DataDirectory, "records");
        JsonObject FinishTask() => new()
        {
            ["record_dir"] = records,
            ["steps"] = new JsonArray(
                Step("usage", new { cost = 0.01, input = 10, output = 5 }),
                Step("http", new { method = "POST", path = "/api/v1/tasks/{task_id}/status", body = new { status = "done" } })),
        };
        var backend = await AddFakeAgentAsync(_server, team, "eng-backend", FinishTask());
        var frontend = await AddFakeAgentAsync(_server, team, "eng-frontend", FinishTask());
        var teamJson = await _server.GetJsonAsync($"/api/v1/teams/{team}");
        var manager = teamJson["manager"]!["id"]!.GetValue<Guid>();
        await UseFakeAgentAsync(_server, manager, FinishTask());

        // Created in one batch so nothing can start before the whole DAG exists.
        var batch = await _server.PostJsonAsync($"/api/v1/teams/{team}/tasks/batch", new JsonObject
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

        await WaitUntilAsync(_server, db => db.Tasks.AnyAsync(t => t.Id == feature && t.Status == TaskState.Done), "the feature to be done", TimeSpan.FromSeconds(120));

        await using var db = Db(_server);
        var events = await db.TaskEvents.Where(e => ids.Contains(e.TaskId)).OrderBy(e => e.Id).ToListAsync();
        long Started(long task) => events.First(e => e.TaskId == task && e.Kind == "turn_started").Id;
        long Done(long task) => events.First(e => e.TaskId == task && e.Kind == "status_changed" && e.ToStatus == "done").Id;
        // t0: task 1 starts. t1: it finishes, task 2 starts. t2: task 2 finishes, task 3 starts.
        // t3: task 3 finishes, task 4 starts. t4: all done, the manager marks the feature done.
        var order = new[] { Started(t1), Done(t1), Started(t2), Done(t2), Started(t3), Done(t3), Started(t4), Done(t4), Started(feature), Done(feature) };
        order.ShouldBe(order.Order().ToArray());
        foreach (var id in ids)
            events.Count(e => e.TaskId == id && e.Kind == "turn_started").ShouldBe(1, $"task {id} ran once");
        events.ShouldContain(e => e.TaskId == t1 && e.Kind == "usage");

        // Each engineer task ran in its own worktree on its own branch, named as the spec shows.
        var task1 = await db.Tasks.SingleAsync(t => t.Id == t1);
        task1.WorktreePath.ShouldBe(Path.Combine(repo, ".worktrees", $"task-{t1}-design-notification-schema"));
        task1.Branch.ShouldBe($"entourage/task-{t1}-design-notification-schema");
        Directory.Exists(task1.WorktreePath).ShouldBeTrue();
        (await File.ReadAllTextAsync(Path.Combine(repo, ".git", "info", "exclude"))).ShouldContain("/.worktrees/");
        var branches = await Entourage.Server.Git.GitCli.RunOrThrowAsync(repo, ["branch", "--list", "entourage/*"], default);
        branches.ShouldContain($"entourage/task-{t3}-add-notification-bell");
        var cwds = Directory.GetFiles(records, "*.start.json").Select(f => JsonNode.Parse(File.ReadAllText(f))!)
            .ToDictionary(r => long.Parse(r["task_id"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture), r => r["cwd"]!.GetValue<string>());
        cwds[t1].ShouldBe(task1.WorktreePath);
        cwds[feature].ShouldStartWith(Path.Combine(repo, ".worktrees", "manager-"));
        (await Entourage.Server.Git.GitCli.RunOrThrowAsync(repo, ["status", "--porcelain"], default)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Cancelling_a_task_kills_its_turn_and_removes_its_worktree_but_keeps_the_branch()
    {
        var repo = await CreateGitRepoAsync(_server.DataDirectory);
        var team = await CreateTeamAsync(_server, "platform", repo);
        var agent = await AddFakeAgentAsync(_server, team, "eng", Script(Step("print", new { text = "started" }), Step("hang")));
        var task = await AddReadyTaskAsync(_server, team, agent, "Create GET/PATCH /api/v1/users/me endpoint");
        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.TaskId == task && t.Log.Contains("hanging")), "the agent to run");
        var worktree = Path.Combine(repo, ".worktrees", $"task-{task}-create-get-patch");
        Directory.Exists(worktree).ShouldBeTrue();

        await _server.PostJsonAsync($"/api/v1/tasks/{task}/status", """{"status": "cancelled"}""");
        await WaitUntilAsync(_server, async db => await db.Turns.AnyAsync(t => t.TaskId == task && t.State == TurnState.Cancelled) && !Directory.Exists(worktree),
            "the turn to stop and the worktree to go");
        var branches = await Entourage.Server.Git.GitCli.RunOrThrowAsync(repo, ["branch", "--list", "entourage/*"], default);
        branches.ShouldContain($"entourage/task-{task}-create-get-patch");
    }
}

public sealed class TimelineContractSqlite() : TimelineContract(Store.Sqlite);

public sealed class TimelineContractPostgres() : TimelineContract(Store.Postgres);
