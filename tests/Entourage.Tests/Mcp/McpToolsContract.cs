using System.Text.Json.Nodes;
using Entourage.Server.Storage;
using Entourage.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;

namespace Entourage.Tests.Mcp;

/// <summary>Every tool through the official C# client over /mcp: valid calls work, invalid ones say what to do.</summary>
public abstract class McpToolsContract(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(store);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    public static readonly string[] AllTools =
    [
        "list_team_agents", "create_task", "create_tasks_batch", "wait_for_task_completion", "list_tasks", "get_task",
        "update_task_status", "assign_task", "get_task_events", "send_message", "get_inbox", "ask_human", "request_review",
        "get_review_feedback", "report_progress", "get_budget",
    ];

    [Fact]
    public async Task Every_tool_is_listed_with_a_description_and_an_object_schema()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using var client = await McpClients.ConnectAsync(_server, team.ManagerToken);
        var tools = await client.ListToolsAsync();
        tools.Select(t => t.Name).ShouldBe(AllTools, ignoreOrder: true);
        foreach (var tool in tools)
        {
            tool.Description.Length.ShouldBeGreaterThan(60, tool.Name);
            tool.JsonSchema.GetProperty("type").GetString().ShouldBe("object");
            tool.JsonSchema.ToString().ShouldNotContain("caller", customMessage: tool.Name + " must not expose the caller");
            tool.JsonSchema.ToString().ShouldNotContain("sender_id", customMessage: tool.Name);
        }
    }

    [Fact]
    public async Task Manager_plans_a_dag_and_engineer_works_it()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using var manager = await McpClients.ConnectAsync(_server, team.ManagerToken);
        await using var engineer = await McpClients.ConnectAsync(_server, team.EngineerToken);

        var feature = await manager.CallOkAsync("create_task", new { title = "Add user notification system", priority = "high" });
        var batch = await manager.CallOkAsync("create_tasks_batch", new
        {
            tasks = new object[]
            {
                new { title = "Create notifications table", assignee_id = "eng-backend", parent_id = feature["id"]!.GetValue<long>() },
                new { title = "Build notification endpoints", assignee_id = team.EngineerId.ToString(), depends_on_indices = new[] { 0 } },
                new { title = "Add notification bell to navbar", assignee_id = "eng-frontend", depends_on_indices = new[] { 1 }, priority = "medium" },
            },
        });
        var ids = batch["tasks"]!.AsArray().Select(t => t!["id"]!.GetValue<long>()).ToArray();
        ids.Length.ShouldBe(3);
        batch["tasks"]![2]!["depends_on"]!.AsArray().Single()!.GetValue<long>().ShouldBe(ids[1]);

        var ready = await manager.CallOkAsync("list_tasks", new { ready = true });
        ready.AsArray().Select(t => t!["id"]!.GetValue<long>()).ShouldBe([ids[0]]);

        // The DAG holds: the second task cannot start before the first is done, and the error says what to do.
        var blocked = await engineer.CallErrorAsync("update_task_status", new { task_id = ids[1], status = "in_progress" });
        blocked.ShouldContain($"blocked by task {ids[0]}");

        await manager.CallOkAsync("send_message", new { recipient_id = "eng-backend", body = "Use the auth pattern of /auth/me.", task_id = ids[0] });
        var inbox = await engineer.CallOkAsync("get_inbox");
        inbox["messages"]!.AsArray().Single()!["body"]!.GetValue<string>().ShouldContain("/auth/me");
        (await engineer.CallOkAsync("get_inbox"))["messages"]!.AsArray().ShouldBeEmpty();

        await engineer.CallOkAsync("update_task_status", new { task_id = ids[0], status = "in_progress" });
        (await engineer.CallOkAsync("report_progress", new { note = "migration written", percent = 50 }))["task_id"]!.GetValue<long>().ShouldBe(ids[0]);
        var review = await engineer.CallOkAsync("request_review", new { summary = "Adds the table; tested with the migration suite." });
        review["state"]!.GetValue<string>().ShouldBe("pending");
        (await engineer.CallOkAsync("get_task", new { task_id = ids[0] }))["status"]!.GetValue<string>().ShouldBe("in_review");
        (await engineer.CallOkAsync("get_review_feedback", new { task_id = ids[0] }))["id"]!.GetValue<long>().ShouldBe(review["id"]!.GetValue<long>());
        // The team requires review (the default): done comes from an approval and the merge, not from an agent.
        (await manager.CallErrorAsync("update_task_status", new { task_id = ids[0], status = "done", reason = "approved" }))
            .ShouldContain("reviewer approves it");
        await _server.PostJsonAsync($"/api/v1/reviews/{review["id"]}/approve", """{"body": "LGTM"}""");
        await Dispatch.DispatchHarness.WaitUntilAsync(_server, db => db.Tasks.AnyAsync(t => t.Id == ids[0] && t.Status == Entourage.Client.Contracts.TaskState.Done),
            $"task {ids[0]} merged (no repository: approval completes it)", TimeSpan.FromSeconds(60));

        var events = await manager.CallOkAsync("get_task_events", new { task_id = ids[0] });
        var kinds = events.AsArray().Select(e => e!["kind"]!.GetValue<string>()).ToList();
        kinds.ShouldContain("created");
        kinds.ShouldContain("message");
        kinds.ShouldContain("progress");
        kinds.ShouldContain("review_requested");
        events.AsArray().Where(e => e!["kind"]!.GetValue<string>() == "status_changed").Select(e => e!["to_status"]!.GetValue<string>())
            .ShouldBe(["in_progress", "in_review", "done"]);
        events.AsArray().First(e => e!["kind"]!.GetValue<string>() == "progress")!["actor"]!["name"]!.GetValue<string>().ShouldBe("eng-backend");

        (await manager.CallOkAsync("get_task", new { task_id = ids[1] }))["ready"]!.GetValue<bool>().ShouldBeTrue();
        var reassigned = await manager.CallOkAsync("assign_task", new { task_id = ids[2], assignee_id = "eng-backend" });
        reassigned["assignee_name"]!.GetValue<string>().ShouldBe("eng-backend");

        var question = await engineer.CallOkAsync("ask_human", new { question = "Should bell counts include read items?", kind = "choice", options = new[] { "yes", "no" }, task_id = ids[1] });
        question["request"]!["status"]!.GetValue<string>().ShouldBe("pending");
        var budget = await engineer.CallOkAsync("get_budget");
        budget["spent_today_usd"]!.GetValue<double>().ShouldBe(0);
    }

    [Fact]
    public async Task Ask_human_can_block_until_a_person_answers()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using var engineer = await McpClients.ConnectAsync(_server, team.EngineerToken);
        var feed = _server.Services.GetRequiredService<ChangeFeed>();
        using var sub = feed.Subscribe();
        var call = engineer.CallOkAsync("ask_human", new { question = "PostgreSQL or SQLite?", kind = "choice", options = new[] { "PostgreSQL", "SQLite" }, wait_seconds = 600 });

        var created = await NextAsync(sub, e => e.Kind == "human_request" && e.Op == "added");
        await _server.PostJsonAsync($"/api/v1/human-requests/{created.Id}/respond", """{"answer": "PostgreSQL", "answered_by": "ana"}""");
        var result = await call;
        result["request"]!["status"]!.GetValue<string>().ShouldBe("answered");
        result["request"]!["answer"]!.GetValue<string>().ShouldBe("PostgreSQL");
        result["next"]!.GetValue<string>().ShouldContain("Act on the answer");
    }

    private static async Task<ChangeEvent> NextAsync(ChangeFeed.Subscription sub, Func<ChangeEvent, bool> match)
    {
        await foreach (var e in sub.Reader.ReadAllAsync(TestContext.Current.CancellationToken))
            if (match(e)) return e;
        throw new InvalidOperationException("change feed ended");
    }

    [Fact]
    public async Task Invalid_arguments_get_errors_that_say_what_to_do()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using var manager = await McpClients.ConnectAsync(_server, team.ManagerToken);

        (await manager.CallErrorAsync("create_task", new { title = "" })).ShouldContain("title");
        (await manager.CallErrorAsync("create_task", new { title = "x", priority = "urgent" })).ShouldContain("low, medium, high, critical");
        var batch = await manager.CallErrorAsync("create_tasks_batch", new
        {
            tasks = new object[] { new { title = "a", depends_on_indices = new[] { 1 } }, new { title = "b", depends_on_indices = new[] { 0 } } },
        });
        batch.ShouldContain("cycle");
        batch.ShouldContain("No task was created");
        (await manager.CallOkAsync("list_tasks")).AsArray().ShouldBeEmpty();
        (await manager.CallErrorAsync("create_tasks_batch", new { tasks = new object[] { new { title = "a", asignee_id = "eng-backend" } } }))
            .ShouldContain("asignee_id");
        (await manager.CallErrorAsync("create_task", new { title = "a", assignee_id = "nobody" })).ShouldContain("nobody");
        (await manager.CallErrorAsync("get_task", new { task_id = 999999 })).ShouldContain("list_tasks");
        (await manager.CallErrorAsync("send_message", new { recipient_id = "manager", body = "hi me" })).ShouldContain("cannot message itself");
        (await manager.CallErrorAsync("send_message", new { recipient_id = "eng-backend", body = "" })).ShouldContain("body");
        (await manager.CallErrorAsync("request_review", new { summary = "done" })).ShouldContain("no task in progress");
        (await manager.CallErrorAsync("report_progress", new { note = "x", percent = 140 })).ShouldContain("percent");
        (await manager.CallErrorAsync("ask_human", new { question = " " })).ShouldContain("question");
        var task = await manager.CallOkAsync("create_task", new { title = "a" });
        (await manager.CallErrorAsync("update_task_status", new { task_id = task["id"]!.GetValue<long>(), status = "in_review" }))
            .ShouldContain("Allowed next states");
        (await manager.CallErrorAsync("get_review_feedback", new { task_id = task["id"]!.GetValue<long>() })).ShouldContain("request_review");
    }

    [Fact]
    public async Task An_agent_cannot_reach_another_teams_tasks_or_agents()
    {
        var a = await McpTestTeam.CreateAsync(_server, "team-a");
        var b = await McpTestTeam.CreateAsync(_server, "team-b");
        await using var managerA = await McpClients.ConnectAsync(_server, a.ManagerToken);
        await using var intruder = await McpClients.ConnectAsync(_server, b.EngineerToken);
        var secret = await managerA.CallOkAsync("create_task", new { title = "Team A secret", assignee_id = "eng-backend" });
        var id = secret["id"]!.GetValue<long>();

        (await intruder.CallErrorAsync("get_task", new { task_id = id })).ShouldContain("no task");
        (await intruder.CallErrorAsync("get_task_events", new { task_id = id })).ShouldContain("no task");
        (await intruder.CallErrorAsync("update_task_status", new { task_id = id, status = "cancelled" })).ShouldContain("no task");
        (await intruder.CallErrorAsync("assign_task", new { task_id = id, assignee_id = "eng-backend" })).ShouldContain("no task");
        (await intruder.CallErrorAsync("send_message", new { recipient_id = a.ManagerId.ToString(), body = "hello" })).ShouldContain("No agent");
        (await intruder.CallErrorAsync("create_task", new { title = "x", depends_on = new[] { id } })).ShouldContain("another team");
        (await intruder.CallErrorAsync("create_task", new { title = "x", assignee_id = a.EngineerId.ToString() })).ShouldContain("No agent");
        (await intruder.CallErrorAsync("ask_human", new { question = "?", task_id = id })).ShouldContain("no task");
        (await intruder.CallOkAsync("list_tasks")).AsArray().ShouldBeEmpty();
        (await managerA.CallOkAsync("get_task", new { task_id = id }))["status"]!.GetValue<string>().ShouldBe("todo");
    }
}

public sealed class McpToolsContractSqlite() : McpToolsContract(Store.Sqlite);

public sealed class McpToolsContractPostgres() : McpToolsContract(Store.Postgres);
