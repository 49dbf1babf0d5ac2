using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Tests.Infrastructure;
using Entourage.Tests.Mcp;
using Microsoft.EntityFrameworkCore;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using static Entourage.Tests.Dispatch.DispatchHarness;

namespace Entourage.Tests.Review;

/// <summary>
/// A manager gets exactly the wake-ups it should around wait_for_task_completion: none after a wait that returned
/// inside its turn (the parent's "all sub-tasks finished" summary goes to its inbox only), one when its wait was cut
/// off before the tasks finished. The manager is a FakeAgent whose turn the test holds open while it calls the tool
/// over MCP with the manager's own token, as a real CLI would from inside that turn.
/// </summary>
public abstract class ManagerWakeupsContract(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(store, FastSettings());

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private sealed class FirstProgress : IProgress<ProgressNotificationValue>
    {
        public TaskCompletionSource Seen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public void Report(ProgressNotificationValue value) => Seen.TrySetResult();
    }

    private sealed record Setup(McpTestTeam Team, long Feature, long[] Children, string Release);

    /// <summary>A feature assigned to the manager (its turn starts and is held open), split into two unassigned children.</summary>
    private async Task<Setup> StartAsync(McpClient manager, McpTestTeam team)
    {
        var release = Path.Combine(_server.DataDirectory, "release-" + Guid.NewGuid().ToString("N"));
        await UseFakeAgentAsync(_server, team.ManagerId, Script(Step("wait_file", new { path = release })));
        var feature = await AddTaskAsync(_server, team.Id, team.ManagerId, "Greeting feature");
        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.AgentId == team.ManagerId && t.TaskId == feature && t.State == TurnState.Running),
            "the manager's turn on the feature running", TimeSpan.FromSeconds(60));
        var batch = await manager.CallOkAsync("create_tasks_batch", new
        {
            tasks = new object[] { new { title = "Child one", parent_id = feature }, new { title = "Child two", parent_id = feature } },
        });
        var children = batch["tasks"]!.AsArray().Select(t => t!["id"]!.GetValue<long>()).ToArray();
        return new Setup(team, feature, children, release);
    }

    private async Task FinishChildrenAsync(long[] children)
    {
        foreach (var id in children)
        {
            await _server.PostJsonAsync($"/api/v1/tasks/{id}/status", """{"status": "in_progress"}""");
            await _server.PostJsonAsync($"/api/v1/tasks/{id}/status", """{"status": "done"}""");
        }
    }

    /// <summary>Lets the held turn end, then waits until the manager has no turn running.</summary>
    private async Task EndTurnAsync(Setup s)
    {
        await File.WriteAllTextAsync(s.Release, "go");
        await WaitUntilAsync(_server, async db => !await db.Turns.AnyAsync(t => t.AgentId == s.Team.ManagerId && t.State == TurnState.Running),
            "the manager's turn ended", TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_wait_that_returned_in_the_turn_leaves_no_wake_up_behind()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using var manager = await McpClients.ConnectAsync(_server, team.ManagerToken);
        var s = await StartAsync(manager, team);

        var progress = new FirstProgress();
        var wait = manager.CallToolAsync("wait_for_task_completion", new Dictionary<string, object?> { ["task_ids"] = s.Children, ["timeout_seconds"] = 600 },
            progress, cancellationToken: TestContext.Current.CancellationToken).AsTask();
        await progress.Seen.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        await FinishChildrenAsync(s.Children);
        JsonNode.Parse(McpToolResults.Text(await wait))!["completed"]!.GetValue<bool>().ShouldBeTrue();
        await EndTurnAsync(s);

        await using var db = Db(_server);
        (await db.Tasks.SingleAsync(t => t.Id == s.Feature)).Status.ShouldBe(TaskState.Done);
        // The summary is still in the manager's inbox, but it woke nobody: the wait's result already said it.
        (await db.Messages.CountAsync(m => m.RecipientId == team.ManagerId && m.TaskId == s.Feature && m.Body.Contains("All sub-tasks"))).ShouldBe(1);
        var open = await db.DispatchRequests.Where(r => r.AgentId == team.ManagerId && r.State != DispatchState.Done)
            .Select(r => r.Reason + " " + r.State).ToListAsync();
        open.ShouldBeEmpty();
        (await db.Turns.CountAsync(t => t.AgentId == team.ManagerId)).ShouldBe(1);
    }

    [Fact]
    public async Task A_wait_cut_off_before_the_tasks_finished_wakes_the_manager_once()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using var manager = await McpClients.ConnectAsync(_server, team.ManagerToken);
        var s = await StartAsync(manager, team);

        var result = await manager.CallOkAsync("wait_for_task_completion", new { task_ids = s.Children, timeout_seconds = 0 });
        result["timed_out"]!.GetValue<bool>().ShouldBeTrue();
        await EndTurnAsync(s);
        await FinishChildrenAsync(s.Children);

        // One wake-up (the wait's), not a second one for the parent's summary.
        await using var db = Db(_server);
        var wakes = await db.DispatchRequests.Where(r => r.AgentId == team.ManagerId && r.Reason != DispatchReason.TaskReady).ToListAsync();
        wakes.Select(r => r.Reason).ShouldBe([DispatchReason.WaitComplete]);
        await WaitUntilAsync(_server, async d => await d.Turns.CountAsync(t => t.AgentId == team.ManagerId && t.State != TurnState.Running) == 2 &&
            !await d.DispatchRequests.AnyAsync(r => r.AgentId == team.ManagerId && r.State != DispatchState.Done), "the manager's wake-up turn ran", TimeSpan.FromSeconds(60));
        (await db.Turns.CountAsync(t => t.AgentId == team.ManagerId)).ShouldBe(2);
    }

    [Fact]
    public async Task A_task_given_to_the_agent_whose_turn_finishes_it_leaves_no_wake_up_behind()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        var release = Path.Combine(_server.DataDirectory, "release-" + Guid.NewGuid().ToString("N"));
        await UseFakeAgentAsync(_server, team.ManagerId, Script(Step("wait_file", new { path = release })));
        // Filed unassigned, the feature wakes the manager to assign it; a person then gives it to the manager.
        var feature = await AddTaskAsync(_server, team.Id, null, "Greeting feature");
        await WaitUntilAsync(_server, db => db.Turns.AnyAsync(t => t.AgentId == team.ManagerId && t.TaskId == feature && t.State == TurnState.Running),
            "the manager's turn on the feature running", TimeSpan.FromSeconds(60));
        await _server.PostJsonAsync($"/api/v1/tasks/{feature}/assign", new JsonObject { ["assignee_id"] = team.ManagerId.ToString() }.ToJsonString());
        await using (var db = Db(_server))
            (await db.DispatchRequests.CountAsync(r => r.AgentId == team.ManagerId && r.State == DispatchState.Pending)).ShouldBe(1, "assigned while its turn runs");

        // The running turn sees the feature through: the pending "start it" wake-up has nothing left to start.
        await _server.PostJsonAsync($"/api/v1/tasks/{feature}/status", """{"status": "in_progress"}""");
        await _server.PostJsonAsync($"/api/v1/tasks/{feature}/status", """{"status": "done"}""");
        await EndTurnAsync(new Setup(team, feature, [], release));
        await using (var db = Db(_server))
        {
            (await db.DispatchRequests.CountAsync(r => r.AgentId == team.ManagerId && r.State != DispatchState.Done)).ShouldBe(0);
            (await db.Turns.CountAsync(t => t.AgentId == team.ManagerId)).ShouldBe(1);
        }
    }

    [Fact]
    public async Task A_manager_not_waiting_on_the_children_is_woken_to_summarise()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using var manager = await McpClients.ConnectAsync(_server, team.ManagerToken);
        var s = await StartAsync(manager, team);
        await EndTurnAsync(s);
        await FinishChildrenAsync(s.Children);

        await using var db = Db(_server);
        var wakes = await db.DispatchRequests.Where(r => r.AgentId == team.ManagerId && r.Reason != DispatchReason.TaskReady).ToListAsync();
        wakes.Select(r => r.Reason).ShouldBe([DispatchReason.Message]);
        wakes[0].TaskId.ShouldBe(s.Feature);
    }
}

public sealed class ManagerWakeupsContractSqlite() : ManagerWakeupsContract(Store.Sqlite);

public sealed class ManagerWakeupsContractPostgres() : ManagerWakeupsContract(Store.Postgres);
