using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Entourage.Cli.Tests.Support;
using Entourage.Tests.Infrastructure;
using Entourage.Tests.Mcp;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Entourage.Cli.Tests.Mcp;

/// <summary>
/// `entourage mcp` (the stdio bridge) as a real child process, driven by the official C# MCP client over stdio
/// against a real server on each store: the same tools, errors and identity rules as /mcp itself.
/// </summary>
public abstract class StdioBridgeContract(Store store) : IAsyncLifetime
{
    private TestServer _server = null!;

    // No dispatcher: these tests move tasks themselves, and the team's agents are not runnable CLIs.
    public async ValueTask InitializeAsync() => _server = await Fixture.StartAsync(store);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private static readonly string[] AllTools =
    [
        "list_team_agents", "create_task", "create_tasks_batch", "wait_for_task_completion", "list_tasks", "get_task",
        "update_task_status", "assign_task", "get_task_events", "send_message", "get_inbox", "ask_human", "request_review",
        "get_review_feedback", "report_progress", "get_budget",
    ];

    [Fact]
    public async Task The_bridge_lists_all_16_tools_with_the_servers_own_schemas()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using var bridge = await Bridge.ConnectAsync(_server.BaseUrl, team.ManagerToken);
        (bridge.Client.ServerInfo?.Name).ShouldNotBeNullOrEmpty();
        var tools = await bridge.Client.ListToolsAsync();
        tools.Select(t => t.Name).ShouldBe(AllTools, ignoreOrder: true);

        await using var direct = await McpClients.ConnectAsync(_server, team.ManagerToken);
        var overHttp = (await direct.ListToolsAsync()).ToDictionary(t => t.Name);
        foreach (var tool in tools)
        {
            tool.Description.Length.ShouldBeGreaterThan(60, tool.Name);
            tool.JsonSchema.GetProperty("type").GetString().ShouldBe("object");
            // Passed through unchanged: a model sees exactly what /mcp offers.
            JsonSerializer.Serialize(tool.JsonSchema).ShouldBe(JsonSerializer.Serialize(overHttp[tool.Name].JsonSchema), tool.Name);
            tool.Description.ShouldBe(overHttp[tool.Name].Description);
        }
        tools.Single(t => t.Name == "create_tasks_batch").JsonSchema.ToString().ShouldContain("depends_on_indices");
    }

    [Fact]
    public async Task A_client_on_the_classic_initialize_handshake_is_served()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        var stderr = new ConcurrentQueue<string>();
        var transport = new StdioClientTransport(Bridge.Options(_server.BaseUrl,
            new Dictionary<string, string?> { ["ENTOURAGE_AGENT_TOKEN"] = team.EngineerToken }, stderr));
        await using var client = await McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = "2025-11-25" },
            cancellationToken: TestContext.Current.CancellationToken);
        client.NegotiatedProtocolVersion.ShouldBe("2025-11-25");
        (await client.ListToolsAsync()).Count.ShouldBe(AllTools.Length);
        (await client.CallOkAsync("get_budget"))["advice"].ShouldNotBeNull();
    }

    [Fact]
    public async Task A_client_that_probes_with_server_discover_then_falls_back_to_initialize_is_served()
    {
        // What the official client does when its 2026-07-28 probe is slow (5 s) or refused: the same process then
        // sends a classic initialize. The bridge must not carry the probe's protocol version over to it.
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        var stderr = new ConcurrentQueue<string>();
        await using var raw = await new StdioClientTransport(Bridge.Options(_server.BaseUrl,
            new Dictionary<string, string?> { ["ENTOURAGE_AGENT_TOKEN"] = team.EngineerToken }, stderr)).ConnectAsync(TestContext.Current.CancellationToken);

        async Task<JsonRpcMessageWithId> CallAsync(long id, string method, string paramsJson)
        {
            await raw.SendMessageAsync(new JsonRpcRequest { Id = new RequestId(id), Method = method, Params = JsonNode.Parse(paramsJson) },
                TestContext.Current.CancellationToken);
            await foreach (var m in raw.MessageReader.ReadAllAsync(TestContext.Current.CancellationToken))
                if (m is JsonRpcMessageWithId withId && withId.Id == new RequestId(id)) return withId;
            throw new InvalidOperationException("The bridge closed stdout.");
        }

        await CallAsync(1, RequestMethods.ServerDiscover, """{"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}""");
        var init = await CallAsync(2, RequestMethods.Initialize,
            """{"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "probe-test", "version": "1.0"}}""");
        init.ShouldBeOfType<JsonRpcResponse>(init is JsonRpcError e ? e.Error.Message : "");
        ((JsonRpcResponse)init).Result!["protocolVersion"]!.GetValue<string>().ShouldBe("2025-11-25");
        await raw.SendMessageAsync(new JsonRpcNotification { Method = NotificationMethods.InitializedNotification }, TestContext.Current.CancellationToken);
        var list = await CallAsync(3, RequestMethods.ToolsList, "{}");
        list.ShouldBeOfType<JsonRpcResponse>(list is JsonRpcError e2 ? e2.Error.Message : "");
        ((JsonRpcResponse)list).Result!["tools"]!.AsArray().Count.ShouldBe(AllTools.Length);
    }

    [Fact]
    public async Task Manager_and_engineer_work_a_dag_through_two_bridges()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using var manager = await Bridge.ConnectAsync(_server.BaseUrl, team.ManagerToken);
        await using var engineer = await Bridge.ConnectAsync(_server.BaseUrl, team.EngineerToken);

        var agents = await manager.Client.CallOkAsync("list_team_agents");
        agents.AsArray().Select(a => a!["name"]!.GetValue<string>()).ShouldBe(["manager", "eng-backend", "eng-frontend"], ignoreOrder: true);
        var batch = await manager.Client.CallOkAsync("create_tasks_batch", new
        {
            tasks = new object[]
            {
                new { title = "Create notifications table", assignee_id = "eng-backend" },
                new { title = "Build notification endpoints", assignee_id = "eng-backend", depends_on_indices = new[] { 0 } },
            },
        });
        var ids = batch["tasks"]!.AsArray().Select(t => t!["id"]!.GetValue<long>()).ToArray();
        (await manager.Client.CallOkAsync("list_tasks", new { ready = true })).AsArray().Select(t => t!["id"]!.GetValue<long>()).ShouldBe([ids[0]]);

        (await engineer.Client.CallErrorAsync("update_task_status", new { task_id = ids[1], status = "in_progress" }))
            .ShouldContain($"blocked by task {ids[0]}");
        await manager.Client.CallOkAsync("send_message", new { recipient_id = "eng-backend", body = "Use the auth pattern of /auth/me.", task_id = ids[0] });
        (await engineer.Client.CallOkAsync("get_inbox"))["messages"]!.AsArray().Single()!["body"]!.GetValue<string>().ShouldContain("/auth/me");

        await engineer.Client.CallOkAsync("update_task_status", new { task_id = ids[0], status = "in_progress" });
        await engineer.Client.CallOkAsync("report_progress", new { note = "migration written", percent = 50 });
        var review = await engineer.Client.CallOkAsync("request_review", new { summary = "Adds the table." });
        review["state"]!.GetValue<string>().ShouldBe("pending");
        (await engineer.Client.CallOkAsync("get_review_feedback", new { task_id = ids[0] }))["id"]!.GetValue<long>().ShouldBe(review["id"]!.GetValue<long>());
        // The team requires review (the default): done comes from an approval and the merge, not from an agent.
        (await manager.Client.CallErrorAsync("update_task_status", new { task_id = ids[0], status = "done" })).ShouldContain("reviewer approves it");
        await _server.PostJsonAsync($"/api/v1/reviews/{review["id"]}/approve", """{"body": "LGTM"}""");
        var waited = await _server.PostJsonAsync("/api/v1/tasks/wait", $$"""{"task_ids": [{{ids[0]}}], "timeout_seconds": 60}""");
        waited.ToJsonString().ShouldContain("\"done\"");
        (await manager.Client.CallOkAsync("get_task", new { task_id = ids[1] }))["ready"]!.GetValue<bool>().ShouldBeTrue();
        (await manager.Client.CallOkAsync("assign_task", new { task_id = ids[1], assignee_id = "eng-frontend" }))["assignee_name"]!.GetValue<string>().ShouldBe("eng-frontend");
        var kinds = (await manager.Client.CallOkAsync("get_task_events", new { task_id = ids[0] })).AsArray().Select(e => e!["kind"]!.GetValue<string>()).ToList();
        kinds.ShouldContain("progress");
        kinds.ShouldContain("review_requested");
        (await engineer.Client.CallOkAsync("create_task", new { title = "Follow-up: index on user_id" }))["created_by_agent_id"]!.GetValue<Guid>().ShouldBe(team.EngineerId);
        (await engineer.Client.CallOkAsync("ask_human", new { question = "Keep read items?", kind = "choice", options = new[] { "yes", "no" } }))["request"]!["status"]!.GetValue<string>().ShouldBe("pending");
        (await engineer.Client.CallOkAsync("get_budget"))["spent_today_usd"]!.GetValue<double>().ShouldBe(0);
    }

    [Fact]
    public async Task Invalid_arguments_come_back_as_tool_errors_that_say_what_to_do()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using var bridge = await Bridge.ConnectAsync(_server.BaseUrl, team.ManagerToken);
        var manager = bridge.Client;

        (await manager.CallErrorAsync("create_task", new { title = "" })).ShouldContain("title");
        (await manager.CallErrorAsync("create_task", new { title = "x", priority = "urgent" })).ShouldContain("low, medium, high, critical");
        var cycle = await manager.CallErrorAsync("create_tasks_batch", new
        {
            tasks = new object[] { new { title = "a", depends_on_indices = new[] { 1 } }, new { title = "b", depends_on_indices = new[] { 0 } } },
        });
        cycle.ShouldContain("cycle");
        cycle.ShouldContain("No task was created");
        (await manager.CallOkAsync("list_tasks")).AsArray().ShouldBeEmpty();
        (await manager.CallErrorAsync("get_task", new { task_id = 999999 })).ShouldContain("list_tasks");
        (await manager.CallErrorAsync("send_message", new { recipient_id = "manager", body = "hi me" })).ShouldContain("cannot message itself");
        (await manager.CallErrorAsync("report_progress", new { note = "x", percent = 140 })).ShouldContain("percent");
        (await manager.CallErrorAsync("wait_for_task_completion", new { task_ids = Array.Empty<long>() })).ShouldContain("task_ids");
        // A tool that does not exist is a protocol error, and the bridge stays usable after it.
        await Should.ThrowAsync<McpException>(async () => await manager.CallToolAsync("delete_everything"));
        (await manager.CallOkAsync("list_tasks")).AsArray().ShouldBeEmpty();
    }

    private sealed class ProgressProbe : IProgress<ProgressNotificationValue>
    {
        public TaskCompletionSource<ProgressNotificationValue> First { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public void Report(ProgressNotificationValue value) => First.TrySetResult(value);
    }

    [Fact]
    public async Task Wait_for_task_completion_forwards_progress_and_the_final_states()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using var bridge = await Bridge.ConnectAsync(_server.BaseUrl, team.ManagerToken);
        var batch = await bridge.Client.CallOkAsync("create_tasks_batch", new
        {
            tasks = new object[] { new { title = "A", assignee_id = "eng-backend" }, new { title = "B", assignee_id = "eng-backend" } },
        });
        var ids = batch["tasks"]!.AsArray().Select(t => t!["id"]!.GetValue<long>()).ToArray();

        var probe = new ProgressProbe();
        var wait = bridge.Client.CallToolAsync("wait_for_task_completion",
            new Dictionary<string, object?> { ["task_ids"] = ids, ["timeout_seconds"] = 600 }, probe,
            cancellationToken: TestContext.Current.CancellationToken).AsTask();
        var first = await probe.First.Task;
        first.Total.ShouldBe(2);
        first.Message!.ShouldContain("0 of 2");
        // While one call waits, others go through the same bridge.
        (await bridge.Client.CallOkAsync("list_tasks")).AsArray().Count.ShouldBe(2);
        wait.IsCompleted.ShouldBeFalse();

        foreach (var id in ids)
        {
            await _server.PostJsonAsync($"/api/v1/tasks/{id}/status", """{"status": "in_progress"}""");
            await _server.PostJsonAsync($"/api/v1/tasks/{id}/status", """{"status": "done"}""");
        }
        var result = JsonNode.Parse(McpToolResults.Text(await wait))!;
        result["completed"]!.GetValue<bool>().ShouldBeTrue();
        result["tasks"]!.AsArray().Select(t => t!["status"]!.GetValue<string>()).ShouldBe(["done", "done"]);
    }

    [Fact]
    public async Task A_cancelled_wait_ends_and_the_bridge_goes_on_serving()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using var bridge = await Bridge.ConnectAsync(_server.BaseUrl, team.ManagerToken);
        var id = (await bridge.Client.CallOkAsync("create_task", new { title = "A", assignee_id = "eng-backend" }))["id"]!.GetValue<long>();

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var probe = new ProgressProbe();
        var wait = bridge.Client.CallToolAsync("wait_for_task_completion",
            new Dictionary<string, object?> { ["task_ids"] = new[] { id }, ["timeout_seconds"] = 600 }, probe, cancellationToken: cancel.Token).AsTask();
        await probe.First.Task; // the wait is running on the server
        await cancel.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(wait);

        // The bridge dropped the call (the client expects no answer to it) and serves the next ones.
        (await bridge.Client.CallOkAsync("get_task", new { task_id = id }))["status"]!.GetValue<string>().ShouldBe("todo");
        var quick = await bridge.Client.CallOkAsync("wait_for_task_completion", new { task_ids = new[] { id }, timeout_seconds = 0 });
        quick["timed_out"]!.GetValue<bool>().ShouldBeTrue();
    }

    [Fact]
    public async Task A_wrong_token_is_refused_with_advice()
    {
        await McpTestTeam.CreateAsync(_server, "platform");
        var stderr = new ConcurrentQueue<string>();
        var transport = new StdioClientTransport(Bridge.Options(_server.BaseUrl,
            new Dictionary<string, string?> { ["ENTOURAGE_AGENT_TOKEN"] = "ent_agent_wrong" }, stderr));
        var ex = await Should.ThrowAsync<Exception>(async () => await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken));
        ex.ToString().ShouldContain("refused the token (401)");
        ex.ToString().ShouldContain("ENTOURAGE_AGENT_TOKEN");
    }

    [Fact]
    public async Task A_missing_token_stops_the_bridge_with_a_clear_message()
    {
        var stderr = new ConcurrentQueue<string>();
        var transport = new StdioClientTransport(Bridge.Options(_server.BaseUrl, new Dictionary<string, string?>(), stderr));
        await Should.ThrowAsync<Exception>(async () => await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken));
        string.Join('\n', stderr).ShouldContain("entourage mcp needs a token");
    }

    [Fact]
    public async Task A_server_that_is_down_is_named_in_the_error()
    {
        var stderr = new ConcurrentQueue<string>();
        var transport = new StdioClientTransport(Bridge.Options(new Uri("http://127.0.0.1:1"),
            new Dictionary<string, string?> { ["ENTOURAGE_AGENT_TOKEN"] = "ent_agent_whatever" }, stderr));
        var ex = await Should.ThrowAsync<Exception>(async () => await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken));
        (ex + string.Join('\n', stderr)).ShouldContain("entourage serve");
    }

    [Fact]
    public async Task An_org_api_key_acts_for_the_agent_named_by_agent()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        var org = await _server.DefaultOrgIdAsync();
        var key = (await _server.PostJsonAsync($"/api/v1/orgs/{org}/api-keys", """{"name": "ops"}"""))["key"]!.GetValue<string>();
        await using var bridge = await Bridge.ConnectAsync(_server.BaseUrl,
            new Dictionary<string, string?> { ["ENTOURAGE_TOKEN"] = key }, "--agent", team.ManagerId.ToString());
        var task = await bridge.Client.CallOkAsync("create_task", new { title = "Made by an operator as the manager" });
        task["created_by_agent_id"]!.GetValue<Guid>().ShouldBe(team.ManagerId);
    }

    [Fact]
    public async Task Url_and_token_come_from_the_environment_or_the_config_file()
    {
        var team = await McpTestTeam.CreateAsync(_server, "platform");
        await using (var fromEnv = await Bridge.ConnectAsync(null, new Dictionary<string, string?>
            { ["ENTOURAGE_URL"] = _server.BaseUrl.ToString(), ["ENTOURAGE_AGENT_TOKEN"] = team.EngineerToken }))
            (await fromEnv.Client.CallOkAsync("get_budget"))["advice"].ShouldNotBeNull();

        // A person's setup: url and token in ~/.config/entourage/config.json, nothing in the environment.
        var config = Path.Combine(_server.DataDirectory, "config.json");
        await File.WriteAllTextAsync(config, new JsonObject { ["url"] = _server.BaseUrl.ToString(), ["token"] = team.ManagerToken }.ToJsonString());
        await using var fromConfig = await Bridge.ConnectAsync(null, new Dictionary<string, string?> { ["ENTOURAGE_CONFIG"] = config });
        var created = await fromConfig.Client.CallOkAsync("create_task", new { title = "From the config file's token" });
        created["created_by_agent_id"]!.GetValue<Guid>().ShouldBe(team.ManagerId);
    }

    [Fact]
    public async Task An_agent_cannot_reach_another_teams_work_through_the_bridge()
    {
        var a = await McpTestTeam.CreateAsync(_server, "team-a");
        var b = await McpTestTeam.CreateAsync(_server, "team-b");
        await using var managerA = await Bridge.ConnectAsync(_server.BaseUrl, a.ManagerToken);
        await using var intruder = await Bridge.ConnectAsync(_server.BaseUrl, b.EngineerToken);
        var id = (await managerA.Client.CallOkAsync("create_task", new { title = "Team A secret", assignee_id = "eng-backend" }))["id"]!.GetValue<long>();

        (await intruder.Client.CallErrorAsync("get_task", new { task_id = id })).ShouldContain("no task");
        (await intruder.Client.CallErrorAsync("update_task_status", new { task_id = id, status = "cancelled" })).ShouldContain("no task");
        (await intruder.Client.CallErrorAsync("send_message", new { recipient_id = a.ManagerId.ToString(), body = "hello" })).ShouldContain("No agent");
        (await intruder.Client.CallErrorAsync("wait_for_task_completion", new { task_ids = new[] { id } })).ShouldContain("another team");
        (await intruder.Client.CallOkAsync("list_tasks")).AsArray().ShouldBeEmpty();
        (await intruder.Client.CallOkAsync("list_team_agents")).AsArray().ShouldAllBe(x => x!["team_id"]!.GetValue<Guid>() == b.Id);
        (await managerA.Client.CallOkAsync("get_task", new { task_id = id }))["status"]!.GetValue<string>().ShouldBe("todo");
    }
}

public sealed class StdioBridgeContractSqlite() : StdioBridgeContract(Store.Sqlite);

public sealed class StdioBridgeContractPostgres() : StdioBridgeContract(Store.Postgres);
