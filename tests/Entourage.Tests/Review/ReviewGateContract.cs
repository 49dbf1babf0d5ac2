using System.Net;
using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Tests.Infrastructure;
using Entourage.Tests.Mcp;
using Microsoft.EntityFrameworkCore;
using static Entourage.Tests.Dispatch.DispatchHarness;
using static Entourage.Tests.Dispatch.DispatchHarnessExtras;

namespace Entourage.Tests.Review;

/// <summary>
/// With require_review on (the default) an agent's task is done only through review and merge: update_task_status
/// to done is refused with what to do instead, and so is the REST status call made with an agent's own token.
/// People over REST may still close a task by hand; teams without
/// review, and parent tasks (their sub-tasks were reviewed), let agents finish directly.
/// </summary>
public abstract class ReviewGateContract(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(store, FastSettings(new Dictionary<string, string?> { ["Merging:PollSeconds"] = "1" }));

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private async Task<(McpTestTeam Team, long Task)> StartedTaskAsync(string slug)
    {
        var team = await McpTestTeam.CreateAsync(_server, slug);
        // Assigned to nobody so no agent process is launched; the engineer claims it over MCP.
        var task = await _server.PostJsonAsync($"/api/v1/teams/{team.Id}/tasks", """{"title": "Add the greeting"}""");
        return (team, task["id"]!.GetValue<long>());
    }

    private async Task<List<string>> TransitionsAsync(long task)
    {
        await using var db = Db(_server);
        return await db.TaskEvents.Where(e => e.TaskId == task && e.Kind == "status_changed").OrderBy(e => e.Id).Select(e => e.ToStatus!).ToListAsync();
    }

    [Fact]
    public async Task An_agent_cannot_mark_its_task_done_without_review()
    {
        var (team, task) = await StartedTaskAsync("gate");
        await using var engineer = await McpClients.ConnectAsync(_server, team.EngineerToken);
        await engineer.CallOkAsync("update_task_status", new { task_id = task, status = "in_progress" });

        var refused = await engineer.CallErrorAsync("update_task_status", new { task_id = task, status = "done" });
        refused.ShouldContain("request_review");
        refused.ShouldContain("require_review");
        (await TransitionsAsync(task)).ShouldBe(["in_progress"]);

        var review = await engineer.CallOkAsync("request_review", new { task_id = task, summary = "Adds the greeting." });
        (await engineer.CallErrorAsync("update_task_status", new { task_id = task, status = "done" })).ShouldContain("reviewer approves it");
        // Another agent (the manager) is refused the same way: only an approval finishes reviewed work.
        await using var manager = await McpClients.ConnectAsync(_server, team.ManagerToken);
        (await manager.CallErrorAsync("update_task_status", new { task_id = task, status = "done" })).ShouldContain("get_review_feedback");
        (await TransitionsAsync(task)).ShouldBe(["in_progress", "in_review"]);

        await _server.PostJsonAsync($"/api/v1/reviews/{review["id"]}/approve", """{"body": "LGTM", "reviewer": "ana"}""");
        await WaitUntilAsync(_server, db => db.Tasks.AnyAsync(t => t.Id == task && t.Status == TaskState.Done), "the approved task landed", TimeSpan.FromSeconds(60));
        (await TransitionsAsync(task)).ShouldBe(["in_progress", "in_review", "done"]);
    }

    [Fact]
    public async Task A_person_over_rest_may_still_close_a_task_an_agent_may_not()
    {
        var (team, task) = await StartedTaskAsync("gate-rest");
        await using var engineer = await McpClients.ConnectAsync(_server, team.EngineerToken);
        await engineer.CallOkAsync("update_task_status", new { task_id = task, status = "in_progress" });
        (await engineer.CallErrorAsync("update_task_status", new { task_id = task, status = "done" })).ShouldContain("request_review");

        // An operator over REST closes it by hand; the timeline says a person did, and why.
        var closed = await _server.Http.PostAsync($"/api/v1/tasks/{task}/status",
            new StringContent("""{"status": "done", "reason": "shipped by hand"}""", System.Text.Encoding.UTF8, "application/json"));
        closed.StatusCode.ShouldBe(HttpStatusCode.OK);
        await using var db = Db(_server);
        var done = await db.TaskEvents.SingleAsync(e => e.TaskId == task && e.ToStatus == "done");
        done.ActorType.ShouldBe(ActorType.Human);
    }

    [Fact]
    public async Task An_agent_token_over_rest_follows_the_same_gate_as_the_mcp_tool()
    {
        var (team, task) = await StartedTaskAsync("gate-agent-rest");
        using var asEngineer = new HttpClient { BaseAddress = _server.BaseUrl };
        asEngineer.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", team.EngineerToken);
        Task<HttpResponseMessage> SetAsync(string status) =>
            asEngineer.PostAsync($"/api/v1/tasks/{task}/status", new StringContent($$"""{"status": "{{status}}"}""", System.Text.Encoding.UTF8, "application/json"));

        (await SetAsync("in_progress")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var refused = await SetAsync("done");
        refused.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        var problem = await refused.Content.ReadAsStringAsync();
        problem.ShouldContain("request_review");
        problem.ShouldContain("require_review");
        (await TransitionsAsync(task)).ShouldBe(["in_progress"], "the refused request changed nothing");
        await using (var db = Db(_server))
        {
            // The timeline names the agent, not a person, for what it did over REST.
            var started = await db.TaskEvents.SingleAsync(e => e.TaskId == task && e.ToStatus == "in_progress");
            started.ActorType.ShouldBe(ActorType.Agent);
            started.ActorName.ShouldBe("eng-backend");
        }

        // Without review the same call finishes the task, as update_task_status would.
        await PatchSettingsAsync(_server, team.Id, """{"require_review": false}""");
        (await SetAsync("done")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await TransitionsAsync(task)).ShouldBe(["in_progress", "done"]);
    }

    [Fact]
    public async Task Without_require_review_an_agent_finishes_its_own_task()
    {
        var (team, task) = await StartedTaskAsync("no-review");
        await PatchSettingsAsync(_server, team.Id, """{"require_review": false}""");
        await using var engineer = await McpClients.ConnectAsync(_server, team.EngineerToken);
        await engineer.CallOkAsync("update_task_status", new { task_id = task, status = "in_progress" });
        (await engineer.CallOkAsync("update_task_status", new { task_id = task, status = "done" }))["status"]!.GetValue<string>().ShouldBe("done");
    }

    [Fact]
    public async Task A_manager_may_close_a_parent_task_whose_work_was_reviewed_in_its_sub_tasks()
    {
        var team = await McpTestTeam.CreateAsync(_server, "parent");
        await using var manager = await McpClients.ConnectAsync(_server, team.ManagerToken);
        var feature = (await manager.CallOkAsync("create_task", new { title = "Greeting feature" }))["id"]!.GetValue<long>();
        var child = (await manager.CallOkAsync("create_task", new { title = "Greeting file", parent_id = feature }))["id"]!.GetValue<long>();
        await manager.CallOkAsync("update_task_status", new { task_id = feature, status = "in_progress" });
        (await manager.CallOkAsync("update_task_status", new { task_id = feature, status = "done", reason = "the rest is dropped" }))["status"]!.GetValue<string>().ShouldBe("done");
        // Its child is ordinary work: still gated.
        await manager.CallOkAsync("update_task_status", new { task_id = child, status = "in_progress" });
        (await manager.CallErrorAsync("update_task_status", new { task_id = child, status = "done" })).ShouldContain("request_review");
    }
}

public sealed class ReviewGateContractSqlite() : ReviewGateContract(Store.Sqlite);

public sealed class ReviewGateContractPostgres() : ReviewGateContract(Store.Postgres);
