using System.Text.Json.Nodes;
using Entourage.Client.Contracts;
using Entourage.Server.Storage;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace Entourage.Tests.Mcp;

/// <summary>wait_for_task_completion: a server-side wait with progress, and a wake-up when the caller gave up first.</summary>
public abstract class McpWaitContract(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private sealed class ProgressProbe : IProgress<ProgressNotificationValue>
    {
        public TaskCompletionSource<ProgressNotificationValue> First { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public void Report(ProgressNotificationValue value) => First.TrySetResult(value);
    }

    [Fact]
    public async Task Wait_reports_progress_and_returns_the_final_states()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using var manager = await McpClients.ConnectAsync(_server, team.ManagerToken);
        var batch = await manager.CallOkAsync("create_tasks_batch", new
        {
            tasks = new object[] { new { title = "A", assignee_id = "eng-backend" }, new { title = "B", assignee_id = "eng-backend", depends_on_indices = new[] { 0 } } },
        });
        var ids = batch["tasks"]!.AsArray().Select(t => t!["id"]!.GetValue<long>()).ToArray();

        var probe = new ProgressProbe();
        var wait = manager.CallToolAsync("wait_for_task_completion",
            new Dictionary<string, object?> { ["task_ids"] = ids, ["timeout_seconds"] = 600 }, probe, cancellationToken: TestContext.Current.CancellationToken).AsTask();
        var first = await probe.First.Task;
        first.Total.ShouldBe(2);
        first.Message!.ShouldContain("0 of 2");
        wait.IsCompleted.ShouldBeFalse();

        foreach (var (id, status) in new[] { (ids[0], "in_progress"), (ids[0], "done"), (ids[1], "in_progress"), (ids[1], "done") })
            await _server.PostJsonAsync($"/api/v1/tasks/{id}/status", $$"""{"status": "{{status}}"}""");
        var result = JsonNode.Parse(McpToolResults.Text(await wait))!;
        result["completed"]!.GetValue<bool>().ShouldBeTrue();
        result["timed_out"]!.GetValue<bool>().ShouldBeFalse();
        result["tasks"]!.AsArray().Select(t => t!["status"]!.GetValue<string>()).ShouldBe(["done", "done"]);

        // Seen in the call: no extra wake-up turn is left behind for it.
        await using var scope = _server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        (await db.TaskWaits.SingleAsync()).CompletedAt.ShouldNotBeNull();
        (await db.DispatchRequests.CountAsync(r => r.AgentId == team.ManagerId && r.Reason == DispatchReason.WaitComplete && r.State == DispatchState.Pending)).ShouldBe(0);
    }

    [Fact]
    public async Task A_timed_out_wait_wakes_the_manager_when_the_tasks_finish()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using var manager = await McpClients.ConnectAsync(_server, team.ManagerToken);
        var task = await manager.CallOkAsync("create_task", new { title = "A", assignee_id = "eng-backend" });
        var id = task["id"]!.GetValue<long>();

        var result = await manager.CallOkAsync("wait_for_task_completion", new { task_ids = new[] { id }, timeout_seconds = 0 });
        result["timed_out"]!.GetValue<bool>().ShouldBeTrue();
        result["tasks"]![0]!["status"]!.GetValue<string>().ShouldBe("todo");

        await _server.PostJsonAsync($"/api/v1/tasks/{id}/status", """{"status": "cancelled"}""");
        await using var scope = _server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var wake = await db.DispatchRequests.SingleAsync(r => r.AgentId == team.ManagerId && r.Reason == DispatchReason.WaitComplete);
        wake.State.ShouldBe(DispatchState.Pending);
    }

    [Fact]
    public async Task Tasks_that_can_never_start_end_the_wait_and_are_named()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using var manager = await McpClients.ConnectAsync(_server, team.ManagerToken);
        var batch = await manager.CallOkAsync("create_tasks_batch", new
        {
            tasks = new object[] { new { title = "A" }, new { title = "B", depends_on_indices = new[] { 0 } }, new { title = "C", depends_on_indices = new[] { 1 } } },
        });
        var ids = batch["tasks"]!.AsArray().Select(t => t!["id"]!.GetValue<long>()).ToArray();
        await manager.CallOkAsync("update_task_status", new { task_id = ids[0], status = "in_progress" });
        await manager.CallOkAsync("update_task_status", new { task_id = ids[0], status = "failed", reason = "schema unclear" });

        var result = await manager.CallOkAsync("wait_for_task_completion", new { task_ids = ids, timeout_seconds = 600 });
        result["completed"]!.GetValue<bool>().ShouldBeFalse();
        result["timed_out"]!.GetValue<bool>().ShouldBeFalse();
        result["never_start"]!.AsArray().Select(x => x!.GetValue<long>()).ShouldBe([ids[1], ids[2]]);
        result["tasks"]![0]!["failure_reason"]!.GetValue<string>().ShouldBe("schema unclear");
    }

    [Fact]
    public async Task Waiting_on_another_teams_tasks_is_refused()
    {
        var a = await McpTestTeam.CreateAsync(_server, "team-a");
        var b = await McpTestTeam.CreateAsync(_server, "team-b");
        await using var managerA = await McpClients.ConnectAsync(_server, a.ManagerToken);
        await using var managerB = await McpClients.ConnectAsync(_server, b.ManagerToken);
        var task = await managerA.CallOkAsync("create_task", new { title = "A" });
        (await managerB.CallErrorAsync("wait_for_task_completion", new { task_ids = new[] { task["id"]!.GetValue<long>() } })).ShouldContain("another team");
        (await managerB.CallErrorAsync("wait_for_task_completion", new { task_ids = Array.Empty<long>() })).ShouldContain("task_ids");
    }

    [Fact]
    public async Task A_timeout_past_the_maximum_is_refused_like_the_REST_wait_and_leaves_no_wake_up()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using var manager = await McpClients.ConnectAsync(_server, team.ManagerToken);
        var id = (await manager.CallOkAsync("create_task", new { title = "A" }))["id"]!.GetValue<long>();

        foreach (var bad in new[] { 99_999_999.0, 3600.5, -1 })
        {
            var error = await manager.CallErrorAsync("wait_for_task_completion", new { task_ids = new[] { id }, timeout_seconds = bad });
            error.ShouldContain("timeout_seconds");
            error.ShouldContain("from 0 (just report) to 3600");
        }
        await using var scope = _server.Services.CreateAsyncScope();
        (await scope.ServiceProvider.GetRequiredService<AppDbContext>().TaskWaits.CountAsync(w => w.TeamId == team.Id)).ShouldBe(0);

        // The maximum itself, as the spec's REST call gives it, is accepted (the task is finished, so it returns at once).
        await _server.PostJsonAsync($"/api/v1/tasks/{id}/status", """{"status": "cancelled"}""");
        var atMax = await manager.CallOkAsync("wait_for_task_completion", new { task_ids = new[] { id }, timeout_seconds = 3600 });
        atMax["completed"]!.GetValue<bool>().ShouldBeTrue();
    }
}

public sealed class McpWaitContractSqlite() : McpWaitContract(Store.Sqlite);

public sealed class McpWaitContractPostgres() : McpWaitContract(Store.Postgres);
